"""Exceptions for the WhatsApp Cloud API, grouped by what the caller should do.

Meta reports failures as numeric codes, in HTTP responses and in webhooks
(``statuses[].errors``, ``value.errors``, ``messages[].errors``). Callers should
catch meaning (``ReengagementError`` -> send a template) rather than compare
numbers, so every code is mapped to a small class hierarchy here. Meta's list of
codes: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
"""

from __future__ import annotations

# Codes worth retrying later. 131049 (marketing cap) only after >= 24 h, see
# retry_after_seconds(). 368 and 131048 are policy restrictions: some open-source
# code retries them like rate limits, which only makes the restriction worse.
RETRYABLE_CODES = frozenset({4, 80007, 130429, 131056, 131000, 131016, 131057, 133004, 131049})

# Hard failures that must never be retried even when Meta answers them with a 5xx:
# restrictions (368, 131048, 131031), billing, blocked/restricted recipients and
# payload errors. Classified codes (auth, template...) are hard failures too.
_NEVER_RETRY_CODES = frozenset(
    {368, 131048, 131031, 131042, 130403, 130472, 130497, 131008, 131009, 131051,
     131062, 131063, 131064, 135000}
)

# Codes where Meta asks for a minimum wait; anything else uses the caller's backoff.
_RETRY_AFTER_SECONDS = {
    131049: 86400.0,  # per-user marketing cap: rapid retries can block the user for 24 h
    131057: 60.0,  # throughput upgrade maintenance lasts about a minute
    131056: 6.0,  # pair rate: about one message per 6 s to the same user
}


def is_retryable(code: int | None, http_status: int | None = None) -> bool:
    """Whether a failure with this Graph code / HTTP status may succeed if sent again."""
    if code is not None:
        if code in RETRYABLE_CODES:
            return True
        # A 5xx carrying a code we classify as a hard failure (auth, template,
        # recipient...) will fail again; an unclassified code on a 5xx may not.
        if code in _NEVER_RETRY_CODES or error_class_for_code(code) is not CloudApiError:
            return False
    return http_status is not None and (http_status >= 500 or http_status == 429)


def retry_after_seconds(code: int | None) -> float | None:
    """Minimum delay Meta asks for before retrying ``code``; None = use your own backoff."""
    return _RETRY_AFTER_SECONDS.get(code) if code is not None else None


class CloudApiError(Exception):
    """A failed Cloud API call or a failure reported by a webhook."""

    def __init__(
        self,
        message: str = "",
        *,
        code: int | None = None,
        title: str = "",
        details: str = "",
        http_status: int | None = None,
        retryable: bool | None = None,
        fbtrace_id: str | None = None,
        href: str | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.title = title or ""
        self.message = message or ""
        self.details = details or ""
        self.http_status = http_status
        self.retryable = is_retryable(code, http_status) if retryable is None else bool(retryable)
        self.fbtrace_id = fbtrace_id
        self.href = href

    @property
    def retry_after(self) -> float | None:
        return retry_after_seconds(self.code) if self.retryable else None

    def __str__(self) -> str:
        prefix = f"(#{self.code}) " if self.code is not None else ""
        # details is the most specific text; message often just repeats the title.
        text = self.details or self.message
        if self.title and text and text != self.title:
            body = f"{self.title}: {text}"
        else:
            body = self.title or text or type(self).__name__
        if self.code is None and self.http_status is not None:
            prefix = f"(HTTP {self.http_status}) "
        return prefix + body

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, http_status={self.http_status!r}, "
            f"retryable={self.retryable!r}, message={str(self)!r})"
        )

    def __reduce__(self):
        # Keyword-only constructor args break the default exception pickling,
        # and job queues pickle exceptions.
        return (_rebuild_error, (type(self), dict(self.__dict__)))

    @classmethod
    def from_graph_error(cls, error: dict, http_status: int | None = None) -> CloudApiError:
        """Build the matching subclass from a Graph error object.

        Accepts the HTTP body ``{"error": {...}}``, its inner object, or a webhook
        ``errors[]`` item (``{code, title, message, error_data: {details}, href}``).
        """
        if not isinstance(error, dict):
            error = {}
        if isinstance(error.get("error"), dict):
            error = error["error"]
        code = as_int(error.get("code"))
        error_data = error.get("error_data")
        if isinstance(error_data, dict):
            details = error_data.get("details")
        else:
            details = error_data if isinstance(error_data, str) else None
        title = error.get("error_user_title") or error.get("title") or error.get("type")
        message = error.get("message") or error.get("error_user_msg")
        return error_class_for_code(code)(
            _as_text(message),
            code=code,
            title=_as_text(title),
            details=_as_text(details),
            http_status=http_status,
            fbtrace_id=_as_text(error.get("fbtrace_id")) or None,
            href=_as_text(error.get("href")) or None,
        )


def _rebuild_error(error_class: type, state: dict) -> CloudApiError:
    error = error_class.__new__(error_class)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


def as_int(value) -> int | None:
    """An int from Meta's loosely typed values (ids, codes); None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_text(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


class AuthError(CloudApiError):
    """The access token is expired, revoked or invalid: flag the account, alert an admin."""


class ApiPermissionError(CloudApiError):
    """The token lacks a permission or the asset is not shared with the app."""


class ThrottlingError(CloudApiError):
    """A rate or throughput limit: queue and retry later (see ``retry_after``)."""


class ServiceUnavailableError(CloudApiError):
    """Meta-side temporary failure (131000, 131016, 133004): retry with backoff."""


class ReengagementError(CloudApiError):
    """Outside the 24 h customer-service window: only a template can be sent."""


class OptOutError(CloudApiError):
    """The user stopped marketing messages: record the opt-out."""


class MarketingCapError(CloudApiError):
    """Per-user marketing cap reached: reschedule no sooner than 24 h."""


class TemplateError(CloudApiError):
    """The template or its parameters do not match what Meta approved."""


class RecipientError(CloudApiError):
    """The recipient cannot receive messages (not on WhatsApp, not allowed, not registered)."""


class MediaError(CloudApiError):
    """Meta could not download or process a media file."""


class TransportError(CloudApiError):
    """No usable Graph answer: timeout, connection error, bad JSON or bare 5xx."""

    def __init__(self, message: str = "", *, retryable: bool = True, **kwargs):
        super().__init__(message, retryable=retryable, **kwargs)


# Exact codes; ranges are handled in error_class_for_code().
_ERROR_CLASS_BY_CODE: dict[int, type[CloudApiError]] = {
    **dict.fromkeys((0, 190, 102, 463, 467), AuthError),
    **dict.fromkeys((3, 10, 131005), ApiPermissionError),
    **dict.fromkeys((4, 80007, 130429, 131056, 131057), ThrottlingError),
    **dict.fromkeys((131000, 131016, 133004), ServiceUnavailableError),
    **dict.fromkeys((131047, 470), ReengagementError),
    131050: OptOutError,
    131049: MarketingCapError,
    **dict.fromkeys((131026, 131030, 131045, 133010), RecipientError),
    **dict.fromkeys((131052, 131053), MediaError),
}


def error_class_for_code(code: int | None) -> type[CloudApiError]:
    """The exception class for a Graph error code (CloudApiError when unclassified)."""
    if code is None:
        return CloudApiError
    if code in _ERROR_CLASS_BY_CODE:
        return _ERROR_CLASS_BY_CODE[code]
    if 200 <= code <= 299:
        return ApiPermissionError
    if 132000 <= code <= 132999:
        return TemplateError
    return CloudApiError
