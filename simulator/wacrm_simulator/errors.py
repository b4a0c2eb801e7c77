"""Meta Graph API error objects as the Cloud API returns them."""

from __future__ import annotations

import secrets
from typing import Any

# code -> (title used in "message", HTTP status)
#
# Meta lists codes and HTTP statuses at
# https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
# 132001 answers 404, not 400, as in this captured response (a log, not a mock):
#   "Meta API Error: 404 {"error":{"message":"(#132001) Template name does not exist in the
#   translation","type":"OAuthException","code":132001,"error_data":{"messaging_product":
#   "whatsapp","details":"template name (review_notification) does not exist in en"},...}}"
#   https://github.com/aabhyahhh/Laari-Khojo/blob/main/backend/TROUBLESHOOTING_REVIEW_NOTIFICATIONS.md
# Same envelope (error_data with messaging_product and details), status not shown:
# https://github.com/tawn33y/whatsapp-cloud-api/issues/57
# Public client test suites stub 132001 with 400 as often as with 404, but those are
# hand-written stubs, not captures of Meta's answers.
ERRORS: dict[int, tuple[str, int]] = {
    1: ("An unknown error occurred", 500),
    2: ("Service temporarily unavailable", 503),
    4: ("Application request limit reached", 429),
    100: ("Invalid parameter", 400),
    190: ("Invalid OAuth access token - Cannot parse access token", 401),
    80007: ("Rate limit issues", 429),
    130429: ("Rate limit hit", 429),
    131000: ("Something went wrong", 500),
    131005: ("Access denied", 403),
    131008: ("Required parameter is missing", 400),
    131009: ("Parameter value is not valid", 400),
    131016: ("Service unavailable", 503),
    131026: ("Message undeliverable", 400),
    131047: ("Re-engagement message", 400),
    131048: ("Spam rate limit hit", 400),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.", 400),
    131050: ("Unable to deliver the message. This recipient has chosen to stop receiving "
             "marketing messages on WhatsApp from your business", 400),
    131051: ("Message type unknown", 400),
    131053: ("Media upload error", 400),
    131056: ("(Business Account, Consumer Account) pair rate limit hit", 429),
    132000: ("Number of parameters does not match the expected number of params", 400),
    132001: ("Template name does not exist in the translation", 404),
    132005: ("Translated text too long", 400),
    132012: ("Parameter format does not match format in the created template", 400),
    132015: ("Template is Paused", 400),
    132016: ("Template is Disabled", 400),
    133004: ("Server Temporarily Unavailable", 503),
}

ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")


# Envelope families (checked against real answers, see the sources below):
# * WhatsApp errors (130xxx-135xxx and most validation 100s on /messages): type
#   OAuthException, message "(#<code>) <title>", error_data {messaging_product, details}.
# * Token errors (190): type OAuthException, message without "(#190)", no error_data,
#   error_subcode only where the Graph API documents one (463 expired, 467 invalid
#   session: https://developers.facebook.com/docs/graph-api/guides/error-handling).
#   WhatsApp Cloud API capture: https://github.com/Neurotech-HQ/heyoo/issues/13
#   ({"message": "Invalid OAuth access token - Cannot parse access token", "type":
#   "OAuthException", "code": 190, "fbtrace_id": ...}); same body from graph.facebook.com
#   in https://github.com/facebook/facebook-ios-sdk/issues/2576. HTTP 401 is the status
#   of 190 in Meta's WhatsApp error-code table (mirrored with its HTTP column at
#   https://help.botbee.io/knowledge-base/article/error-codes-reference).
# * Unknown object id (100/33): HTTP 400, type GraphMethodException, error_subcode 33,
#   no error_data, message "Unsupported <get|post|delete> request. Object with ID '<id>'
#   does not exist, cannot be loaded due to missing permissions, or does not support this
#   operation. Please read the Graph API documentation at ...". Captures:
#   https://github.com/facebook/facebook-python-business-sdk/issues/239 (Status 400),
#   https://github.com/roughike/flutter_facebook_login/issues/44 (HttpStatus 400, 100/33),
#   POST on a WhatsApp phone-number id:
#   https://github.com/voiceflow-community/example-integration-whatsapp/issues/5
UNSUPPORTED_TAIL = ("does not exist, cannot be loaded due to missing permissions, or does "
                    "not support this operation. Please read the Graph API documentation at "
                    "https://developers.facebook.com/docs/graph-api")


def unsupported_message(method: str, object_id: str) -> str:
    return f"Unsupported {method.lower()} request. Object with ID '{object_id}' {UNSUPPORTED_TAIL}"


class GraphError(Exception):
    """An error answered by the Graph API (raised by validators and handlers).

    ``error_data`` defaults to on (WhatsApp envelope) except for code 190;
    ``is_transient: false`` accompanies a subcode on OAuthException errors other than
    190 (template-management errors), as Meta sends it there.
    """

    def __init__(self, code: int, details: str = "", *, status: int | None = None,
                 message: str | None = None, subcode: int | None = None,
                 user_title: str | None = None, user_msg: str | None = None,
                 error_type: str = "OAuthException", error_data: bool | None = None,
                 is_transient: bool | None = None):
        title, default_status = ERRORS.get(code, ("Unknown error", 400))
        self.code = code
        self.title = title
        self.details = details or title
        self.status = status or default_status
        # 190 is a Graph token error: its message carries no "(#190)" prefix.
        self.message = message or (title if code == 190 else f"(#{code}) {title}")
        self.subcode = subcode
        self.user_title = user_title
        self.user_msg = user_msg
        self.error_type = error_type
        self.error_data = (code != 190) if error_data is None else error_data
        if is_transient is None and subcode is not None and code != 190 \
                and error_type == "OAuthException":
            is_transient = False
        self.is_transient = is_transient
        # Set by not_found(): the message names the HTTP method, which the raiser may
        # not know (Simulator.account() serves GET and POST); see for_method().
        self.object_id: str | None = None
        self.method: str | None = None
        super().__init__(f"{code}: {self.details}")

    def for_method(self, method: str) -> GraphError:
        """Name the request's method in an unknown-object message raised without one."""
        if self.object_id is not None and self.method is None:
            self.method = method.lower()
            self.message = unsupported_message(self.method, self.object_id)
        return self

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": self.error_type,
                               "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        if self.is_transient is not None:
            err["is_transient"] = self.is_transient
        if self.user_title:
            err["error_user_title"] = self.user_title
        if self.user_msg:
            err["error_user_msg"] = self.user_msg
        if self.error_data:
            err["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        err["fbtrace_id"] = fbtrace_id()
        return {"error": err}


def status_error(code: int, details: str | None = None) -> dict[str, Any]:
    """The error object carried by a ``failed`` status webhook."""
    title = ERRORS.get(code, ("Unknown error", 400))[0]
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or title},
        "href": ERROR_HREF,
    }


INVALID_TOKEN_MESSAGE = "Invalid OAuth access token - Cannot parse access token"


def auth_error(message: str = INVALID_TOKEN_MESSAGE, *, subcode: int | None = None) -> GraphError:
    """Error 190 (HTTP 401): Graph envelope, no "(#190)" prefix and no error_data.

    ``subcode`` only where Meta documents one: 463 (expired: "Error validating access
    token: Session has expired on ...") or 467 (invalid session).
    """
    return GraphError(190, message, message=message, subcode=subcode)


def not_found(object_id: str, method: str | None = None) -> GraphError:
    """Unknown object id: HTTP 400, GraphMethodException 100/33, no error_data.

    Without ``method`` the server fills in the request's method (see for_method()).
    """
    err = GraphError(100, f"Object with ID '{object_id}' does not exist", status=400,
                     subcode=33, error_type="GraphMethodException", error_data=False,
                     message=unsupported_message(method or "get", object_id))
    err.object_id = str(object_id)
    err.method = method.lower() if method else None
    return err
