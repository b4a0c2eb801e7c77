"""Typed builders of outbound message objects: the only place where their Graph JSON is made.

A builder returns the type-specific part of a send request (``{"type": ..., <type>: {...}}``);
``addressed`` adds the recipient, the quoted message and our callback data. Shapes
and limits follow Meta's reference:
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
"""

from __future__ import annotations

import re

from .phone import is_bsuid

MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
CAPTION_MEDIA_TYPES = frozenset({"image", "video", "document"})
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_LENGTH = 512
_PHONE_CHARS = re.compile(r"^[\d\s\-().+]+$")


def normalize_recipient(to: str) -> str:
    """'+55 11 98765-4321' or '5511987654321' -> '+5511987654321'.

    Only the shape is normalised; validity is Meta's call (its test numbers,
    e.g. +1 555..., are not valid for phonenumbers).
    """
    if not isinstance(to, str) or not _PHONE_CHARS.match(to.strip()):
        raise ValueError("recipient must be a phone number (digits, optionally with + and spaces)")
    digits = re.sub(r"\D", "", to)
    if not digits:
        raise ValueError("recipient phone number has no digits")
    return "+" + digits


def _message(message_type: str, content: dict) -> dict:
    return {"type": message_type, message_type: content}


def text(body: str, *, preview_url: bool = False) -> dict:
    if not body or not body.strip():
        raise ValueError("text body must not be empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text is {len(body)} characters long; the limit is {MAX_TEXT}")
    return _message("text", {"body": body, "preview_url": bool(preview_url)})


def media(media_type: str, *, media_id: str | None = None, link: str | None = None,
          caption: str | None = None, filename: str | None = None,
          voice: bool = False) -> dict:
    """A media message. Without ``media_id`` or ``link`` the id is filled in at upload."""
    if media_type not in MEDIA_TYPES:
        raise ValueError(f"media_type must be one of {sorted(MEDIA_TYPES)}")
    if media_id and link:
        raise ValueError("give one of media_id or link, not both")
    if caption and media_type not in CAPTION_MEDIA_TYPES:
        raise ValueError(f"{media_type} messages cannot carry a caption")
    if caption and len(caption) > MAX_CAPTION:
        raise ValueError(f"the caption is longer than {MAX_CAPTION} characters")
    if filename and media_type != "document":
        raise ValueError("only documents carry a filename")
    if voice and media_type != "audio":
        raise ValueError("only audio can be sent as a voice note")
    content: dict = {}
    if media_id:
        content["id"] = media_id
    elif link:
        content["link"] = link
    if caption:
        content["caption"] = caption
    if filename:
        content["filename"] = filename
    if voice:
        content["voice"] = True
    return _message(media_type, content)


def template(name: str, language: str | dict, components: list | None = None) -> dict:
    if not name:
        raise ValueError("a template needs a name")
    content = {
        "name": name,
        "language": language if isinstance(language, dict) else {"code": language},
    }
    if components:
        content["components"] = components
    return _message("template", content)


def interactive(content: dict) -> dict:
    """``content`` comes from ``interactive.reply_buttons`` or ``interactive.list_message``."""
    if not isinstance(content, dict) or content.get("type") not in ("button", "list",
                                                                     "cta_url", "flow"):
        raise ValueError("unknown interactive message")
    return _message("interactive", content)


def reaction(message_id: str, emoji: str | None) -> dict:
    """React to ``message_id``; an empty ``emoji`` removes the reaction."""
    if not message_id:
        raise ValueError("a reaction needs the message it reacts to")
    return _message("reaction", {"message_id": message_id, "emoji": emoji or ""})


def location(latitude: float, longitude: float, *, name: str | None = None,
             address: str | None = None) -> dict:
    content = {"latitude": latitude, "longitude": longitude}
    if name:
        content["name"] = name
    if address:
        content["address"] = address
    return _message("location", content)


def addressed(message: dict, to: str, *, reply_to: str | None = None,
              callback_data: str | None = None) -> dict:
    """The full request body for ``POST /{phone-number-id}/messages``.

    ``to`` is the customer's phone number, or their BSUID when the number is unknown:
    a BSUID goes in ``recipient`` (accepted since May 2026; Meta prefers ``to`` when a
    body has both, so a body carries one)."""
    if callback_data is not None and len(str(callback_data)) > MAX_CALLBACK_DATA_LENGTH:
        raise ValueError(f"callback_data is longer than {MAX_CALLBACK_DATA_LENGTH} characters")
    address = {"recipient": to} if is_bsuid(to) else {"to": normalize_recipient(to)}
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **address,
        **message,
    }
    if reply_to:
        body["context"] = {"message_id": reply_to}
    if callback_data is not None:
        body["biz_opaque_callback_data"] = callback_data
    return body
