"""Which media files we accept from customers, decided from the declared and sniffed types.

Meta's limits per media type:
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types
"""

from __future__ import annotations

ALLOWED_MIME_PREFIXES = {
    "image": ("image/jpeg", "image/png", "image/webp"),
    "sticker": ("image/webp", "image/png"),
    "audio": ("audio/", "video/mp4", "application/ogg"),
    "video": ("video/mp4", "video/3gpp", "video/3gp"),
    "document": ("application/", "text/plain", "text/csv", "image/"),
}
# Never stored, whatever the customer's phone claims: they run in a browser or a shell.
FORBIDDEN_MIME_TYPES = frozenset({
    "application/x-msdownload",
    "application/x-dosexec",
    "application/x-executable",
    "application/x-sharedlib",
    "application/x-sh",
    "application/javascript",
    "text/html",
    "image/svg+xml",
})
UNKNOWN_MIME_TYPE = "application/octet-stream"


def base_mime(mime_type: str | None) -> str:
    """``image/jpeg; charset=x`` -> ``image/jpeg``."""
    return (mime_type or "").split(";")[0].strip().lower()


def accepted_mime(message_type: str, declared: str | None, sniffed: str | None) -> str:
    """The MIME type to store, or ValueError saying why the file is refused.

    The declared type must be allowed for the message type, and for images and
    videos the bytes must agree with it.
    """
    declared = base_mime(declared)
    sniffed = base_mime(sniffed) or UNKNOWN_MIME_TYPE
    allowed = ALLOWED_MIME_PREFIXES.get(message_type, ())
    if not declared.startswith(allowed):
        raise ValueError(f"MIME type {declared or 'unknown'} refused for {message_type}")
    for mime_type in (sniffed, declared):
        if mime_type in FORBIDDEN_MIME_TYPES:
            raise ValueError(f"MIME type {mime_type} refused")
    family = declared.split("/")[0]
    if (
        family in ("image", "video")
        and sniffed != UNKNOWN_MIME_TYPE
        and sniffed.split("/")[0] != family
    ):
        raise ValueError(f"content is {sniffed}, not {declared}")
    return declared
