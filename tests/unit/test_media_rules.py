"""Which inbound media we keep (lib/media.py): declared type, sniffed type, message type."""

import pytest

from lib import media as media_rules


@pytest.mark.parametrize(("message_type", "declared", "sniffed", "stored"), [
    ("image", "image/jpeg", "image/jpeg", "image/jpeg"),
    ("image", "Image/PNG; name=x.png", "image/png", "image/png"),
    ("image", "image/webp", None, "image/webp"),  # nothing sniffed: the declared type
    ("image", "image/jpeg", "application/octet-stream", "image/jpeg"),
    ("sticker", "image/webp", "image/webp", "image/webp"),
    ("audio", "audio/ogg; codecs=opus", "audio/ogg", "audio/ogg"),
    ("audio", "application/ogg", "application/ogg", "application/ogg"),
    ("video", "video/mp4", "video/mp4", "video/mp4"),
    ("document", "application/pdf", "application/pdf", "application/pdf"),
    # Only images and videos must match their bytes: a .docx sniffs as a zip.
    ("document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     "application/zip",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("document", "text/csv", "text/plain", "text/csv"),
    ("document", "image/png", "image/png", "image/png"),
])
def test_accepted(message_type, declared, sniffed, stored):
    assert media_rules.accepted_mime(message_type, declared, sniffed) == stored


@pytest.mark.parametrize(("message_type", "declared", "sniffed", "reason"), [
    ("image", "image/gif", "image/gif", "image/gif refused for image"),
    ("image", "application/pdf", "application/pdf", "refused for image"),
    ("image", None, "image/jpeg", "unknown refused"),
    ("image", "", None, "unknown refused"),
    ("sticker", "image/jpeg", "image/jpeg", "refused for sticker"),
    ("video", "video/quicktime", "video/quicktime", "refused for video"),
    ("document", "text/html", "text/html", "text/html refused"),
    ("location", "image/jpeg", "image/jpeg", "refused for location"),
    # Forbidden whatever is declared or sniffed; the message names the offending type.
    ("document", "application/pdf", "text/html", "text/html refused"),
    ("document", "application/pdf", "application/x-msdownload", "x-msdownload refused"),
    ("document", "image/svg+xml", "image/svg+xml", "svg"),
    ("document", "application/javascript", "text/plain", "application/javascript refused"),
    ("document", "application/x-sh", None, "application/x-sh refused"),
    ("image", "image/png", "text/html", "text/html refused"),
    # Images and videos must be what they claim.
    ("image", "image/jpeg", "application/pdf", "content is application/pdf, not image/jpeg"),
    ("video", "video/mp4", "image/jpeg", "content is image/jpeg"),
    ("sticker", "image/webp", "application/zip", "content is application/zip"),
])
def test_refused(message_type, declared, sniffed, reason):
    with pytest.raises(ValueError, match=reason.replace("+", r"\+")):
        media_rules.accepted_mime(message_type, declared, sniffed)


@pytest.mark.parametrize(("raw", "base"), [
    ("image/jpeg; charset=x", "image/jpeg"),
    (" TEXT/Plain ", "text/plain"),
    (None, ""),
    ("", ""),
])
def test_base_mime(raw, base):
    assert media_rules.base_mime(raw) == base
