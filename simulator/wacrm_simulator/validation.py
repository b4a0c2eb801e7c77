"""Structural validation of POST /{phone_number_id}/messages bodies (Meta's 1310xx codes)."""

from __future__ import annotations

import re
from typing import Any

from .errors import GraphError
from .identity import is_bsuid

TO_RE = re.compile(r"^\+?\d{8,15}$")
MESSAGE_TYPES = {"text", "image", "audio", "video", "document", "sticker", "interactive",
                 "reaction", "location", "contacts", "template"}
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
INTERACTIVE_TYPES = {"button", "list", "cta_url", "product", "product_list", "flow",
                     "location_request_message", "catalog_message"}


def _missing(param: str) -> GraphError:
    return GraphError(131008, f"The parameter {param} is required.")


def _invalid(details: str) -> GraphError:
    return GraphError(131009, details)


def _text(obj: Any, key: str, where: str, *, maximum: int, required: bool = True,
          minimum: int = 1) -> str | None:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        if required:
            raise _missing(f"{where}.{key}")
        return None
    if not isinstance(value, str):
        raise _invalid(f"{where}.{key} must be a string.")
    if len(value) < minimum or len(value) > maximum:
        raise _invalid(f"{where}.{key} must be between {minimum} and {maximum} characters "
                       f"long (got {len(value)}).")
    return value


def wa_digits(to: str) -> str:
    return to.lstrip("+")


def validate_send(body: Any) -> dict[str, Any]:
    """Return {"kind": "read", ...} for mark-as-read or {"kind": "message", ...}."""
    if not isinstance(body, dict):
        raise GraphError(100, "The request body must be a JSON object.")
    product = body.get("messaging_product")
    if product is None:
        raise _missing("messaging_product")
    if product != "whatsapp":
        raise _invalid("messaging_product must be 'whatsapp'.")
    if "status" in body:
        if body.get("status") != "read":
            raise _invalid("status must be 'read'.")
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise _missing("message_id")
        typing = body.get("typing_indicator")
        if typing is not None and (not isinstance(typing, dict) or typing.get("type") != "text"):
            raise _invalid("typing_indicator.type must be 'text'.")
        return {"kind": "read", "message_id": message_id, "typing": typing is not None}
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type not in ("individual", "group"):
        raise _invalid("recipient_type must be 'individual'.")
    # ``recipient`` (a BSUID) since May 2026; ``to`` wins when both are given
    # (business-scoped-user-ids page, "Sending messages").
    to, recipient = body.get("to"), body.get("recipient")
    if to is None and recipient is None:
        raise _missing("to")
    if to is not None and (not isinstance(to, str) or not TO_RE.match(to)):
        raise _invalid(f"Invalid 'to' parameter: '{to}' is not a valid phone number.")
    if to is None and not is_bsuid(recipient):
        raise _invalid(f"Invalid 'recipient' parameter: '{recipient}' is not a valid "
                       "business-scoped user ID.")
    msg_type = body.get("type", "text")
    if not isinstance(msg_type, str) or msg_type not in MESSAGE_TYPES:
        raise _invalid(f"Unknown message type '{msg_type}'. Expected one of "
                       f"{', '.join(sorted(MESSAGE_TYPES))}.")
    obj = body.get(msg_type)
    if obj is None:
        raise _missing(msg_type)
    if msg_type != "contacts" and not isinstance(obj, dict):
        raise _invalid(f"{msg_type} must be an object.")
    context = body.get("context")
    if context is not None and (not isinstance(context, dict)
                                or not isinstance(context.get("message_id"), str)):
        raise _invalid("context.message_id must be a string.")
    opaque = body.get("biz_opaque_callback_data")
    if opaque is not None and (not isinstance(opaque, str) or len(opaque) > 512):
        raise _invalid("biz_opaque_callback_data must be a string of at most 512 characters.")
    VALIDATORS[msg_type](obj, msg_type)
    return {"kind": "message", "to": to, "recipient": recipient if to is None else None,
            "type": msg_type, "object": obj}


def _v_text(obj: dict, _: str) -> None:
    _text(obj, "body", "text", maximum=4096)
    if "preview_url" in obj and not isinstance(obj["preview_url"], bool):
        raise _invalid("text.preview_url must be a boolean.")


def _v_media(obj: dict, kind: str) -> None:
    has_id, has_link = "id" in obj, "link" in obj
    if not has_id and not has_link:
        raise _missing(f"{kind}.id or {kind}.link")
    if has_id and has_link:
        raise _invalid(f"{kind}: provide either id or link, not both.")
    if has_id and (not isinstance(obj["id"], str) or not obj["id"]):
        raise _invalid(f"{kind}.id must be a non-empty string.")
    if has_link and (not isinstance(obj["link"], str)
                     or not obj["link"].startswith(("http://", "https://"))):
        raise _invalid(f"{kind}.link must be an http(s) URL.")
    if "caption" in obj:
        if kind in ("audio", "sticker"):
            raise _invalid(f"Param caption is not supported for {kind} messages.")
        _text(obj, "caption", kind, maximum=1024)
    if "filename" in obj and kind != "document":
        raise _invalid("Param filename is only supported for document messages.")
    if "filename" in obj:
        _text(obj, "filename", kind, maximum=240)


def _v_interactive(obj: dict, _: str) -> None:
    itype = obj.get("type")
    if itype is None:
        raise _missing("interactive.type")
    if itype not in INTERACTIVE_TYPES:
        raise _invalid(f"Unknown interactive type '{itype}'.")
    action = obj.get("action")
    if not isinstance(action, dict):
        raise _missing("interactive.action")
    body_required = itype in ("button", "list", "cta_url", "product_list", "flow")
    if body_required or "body" in obj:
        _text(obj.get("body") or {}, "text", "interactive.body", maximum=1024)
    if "footer" in obj:
        _text(obj.get("footer") or {}, "text", "interactive.footer", maximum=60)
    header = obj.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        _text(header, "text", "interactive.header", maximum=60)
    if itype == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not buttons:
            raise _missing("interactive.action.buttons")
        if len(buttons) > 3:
            raise _invalid(f"interactive.action.buttons: at most 3 reply buttons are allowed "
                           f"(got {len(buttons)}).")
        ids, titles = set(), set()
        for button in buttons:
            if not isinstance(button, dict) or button.get("type") != "reply":
                raise _invalid("interactive.action.buttons[].type must be 'reply'.")
            reply = button.get("reply") or {}
            bid = _text(reply, "id", "button.reply", maximum=256)
            title = _text(reply, "title", "button.reply", maximum=20)
            if bid in ids or title in titles:
                raise _invalid("Reply button ids and titles must be unique.")
            ids.add(bid)
            titles.add(title)
    elif itype == "list":
        _text(action, "button", "interactive.action", maximum=20)
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections:
            raise _missing("interactive.action.sections")
        if len(sections) > 10:
            raise _invalid("interactive.action.sections: at most 10 sections are allowed.")
        total = 0
        for section in sections:
            rows = (section or {}).get("rows")
            if not isinstance(rows, list) or not rows:
                raise _missing("interactive.action.sections[].rows")
            if len(sections) > 1:
                _text(section, "title", "section", maximum=24)
            for row in rows:
                _text(row, "id", "row", maximum=200)
                _text(row, "title", "row", maximum=24)
                _text(row, "description", "row", maximum=72, required=False)
            total += len(rows)
        if total > 10:
            raise _invalid(f"interactive.action.sections: at most 10 rows in total are "
                           f"allowed (got {total}).")
    elif itype == "cta_url":
        if action.get("name") != "cta_url":
            raise _invalid("interactive.action.name must be 'cta_url'.")
        params = action.get("parameters") or {}
        _text(params, "display_text", "interactive.action.parameters", maximum=20)
        url = _text(params, "url", "interactive.action.parameters", maximum=2000)
        if not url.startswith(("http://", "https://")):
            raise _invalid("interactive.action.parameters.url must be an http(s) URL.")


def _v_reaction(obj: dict, _: str) -> None:
    if not isinstance(obj.get("message_id"), str) or not obj["message_id"]:
        raise _missing("reaction.message_id")
    if "emoji" not in obj:
        raise _missing("reaction.emoji")
    if not isinstance(obj["emoji"], str):
        raise _invalid("reaction.emoji must be a string.")


def _v_location(obj: dict, _: str) -> None:
    for key, limit in (("latitude", 90), ("longitude", 180)):
        value = obj.get(key)
        if value is None:
            raise _missing(f"location.{key}")
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise _invalid(f"location.{key} must be a number.") from exc
        if abs(number) > limit:
            raise _invalid(f"location.{key} is out of range.")


def _v_contacts(obj: Any, _: str) -> None:
    if not isinstance(obj, list) or not obj:
        raise _invalid("contacts must be a non-empty array.")
    for contact in obj:
        name = (contact or {}).get("name") if isinstance(contact, dict) else None
        if not isinstance(name, dict) or not name.get("formatted_name"):
            raise _missing("contacts[].name.formatted_name")


def _v_template(obj: dict, _: str) -> None:
    if not isinstance(obj.get("name"), str) or not obj["name"]:
        raise _missing("template.name")
    language = obj.get("language")
    if not isinstance(language, dict) or not isinstance(language.get("code"), str):
        raise _missing("template.language.code")


VALIDATORS = {
    "text": _v_text,
    "image": _v_media,
    "audio": _v_media,
    "video": _v_media,
    "document": _v_media,
    "sticker": _v_media,
    "interactive": _v_interactive,
    "reaction": _v_reaction,
    "location": _v_location,
    "contacts": _v_contacts,
    "template": _v_template,
}


def brazil_variants(digits: str) -> list[str]:
    """Alternative wa_id forms Meta may map a number to (BR 9th digit, MX 521, AR 549)."""
    out: list[str] = []
    if digits.startswith("55") and len(digits) == 13 and digits[4] == "9":
        out.append(digits[:4] + digits[5:])
    elif digits.startswith("55") and len(digits) == 12 and digits[4] in "6789":
        out.append(digits[:4] + "9" + digits[4:])
    if digits.startswith("521") and len(digits) == 13:
        out.append("52" + digits[3:])
    elif digits.startswith("52") and len(digits) == 12:
        out.append("521" + digits[2:])
    if digits.startswith("549") and len(digits) == 13:
        out.append("54" + digits[3:])
    elif digits.startswith("54") and len(digits) == 12:
        out.append("549" + digits[2:])
    return out
