"""Meta Graph API error objects as the Cloud API returns them."""

from __future__ import annotations

import secrets
from typing import Any

# code -> (title used in "message", HTTP status)
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
    132001: ("Template name does not exist in the translation", 400),
    132005: ("Translated text too long", 400),
    132012: ("Parameter format does not match format in the created template", 400),
    132015: ("Template is Paused", 400),
    132016: ("Template is Disabled", 400),
    133004: ("Server Temporarily Unavailable", 503),
}

ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")


class GraphError(Exception):
    """An error answered by the Graph API (raised by validators and handlers)."""

    def __init__(self, code: int, details: str = "", *, status: int | None = None,
                 message: str | None = None, subcode: int | None = None,
                 user_title: str | None = None, user_msg: str | None = None):
        title, default_status = ERRORS.get(code, ("Unknown error", 400))
        self.code = code
        self.title = title
        self.details = details or title
        self.status = status or default_status
        self.message = message or f"(#{code}) {title}"
        self.subcode = subcode
        self.user_title = user_title
        self.user_msg = user_msg
        super().__init__(f"{code}: {self.details}")

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
            "fbtrace_id": fbtrace_id(),
        }
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
            err["is_transient"] = False
        if self.user_title:
            err["error_user_title"] = self.user_title
        if self.user_msg:
            err["error_user_msg"] = self.user_msg
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


def auth_error(details: str = "Invalid OAuth access token.") -> GraphError:
    return GraphError(190, details)


def not_found(object_id: str, method: str = "get") -> GraphError:
    return GraphError(
        100,
        f"Object with ID '{object_id}' does not exist",
        status=404,
        subcode=33,
        message=(f"Unsupported {method} request. Object with ID '{object_id}' does not exist, "
                 "cannot be loaded due to missing permissions, or does not support this "
                 "operation."),
    )
