"""Build Meta-shaped inbound ``messages[]`` entries from a control-API spec."""

from __future__ import annotations

from typing import Any

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")

DEFAULT_REFERRAL = {
    "source_url": "https://fb.me/simulated-ad",
    "source_id": "120200000000000001",
    "source_type": "ad",
    "headline": "Simulated ad",
    "body": "Write to us on WhatsApp",
    "media_type": "image",
    "image_url": "https://example.invalid/ad.jpg",
    "thumbnail_url": "https://example.invalid/ad_thumb.jpg",
    "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0",
}


def _text_of(spec: dict[str, Any]) -> str:
    value = spec.get("text")
    if isinstance(value, dict):
        return str(value.get("body", ""))
    if value is None:
        value = spec.get("body", "")
    return str(value)


def _type_object(spec: dict[str, Any], msg_type: str) -> dict[str, Any]:
    obj = spec.get(msg_type)
    return dict(obj) if isinstance(obj, dict) else {}


def build_message(spec: dict[str, Any], *, wamid: str, sender: dict[str, Any], timestamp: int,
                  business_number: str, media: dict[str, Any] | None = None) -> dict[str, Any]:
    """``sender`` is the customer's ``contacts[]`` block: ``from`` only when it shows the
    number, ``from_user_id`` always. ``media`` is {id, mime_type, sha256} of the stored
    file for media types."""
    msg_type = str(spec.get("type") or "text")
    msg: dict[str, Any] = {"id": wamid, "timestamp": str(timestamp), "type": msg_type}
    if sender.get("wa_id"):
        msg["from"] = sender["wa_id"]
    msg["from_user_id"] = sender["user_id"]
    if sender.get("parent_user_id"):
        msg["from_parent_user_id"] = sender["parent_user_id"]
    context: dict[str, Any] = {}
    if spec.get("context_id"):
        context = {"from": business_number, "id": spec["context_id"]}
    if spec.get("forwarded"):
        context["forwarded"] = True
    if spec.get("frequently_forwarded"):
        context["frequently_forwarded"] = True
    if context:
        msg["context"] = context
    if spec.get("referral"):
        referral = dict(DEFAULT_REFERRAL)
        if isinstance(spec["referral"], dict):
            referral.update(spec["referral"])
        msg["referral"] = referral

    if msg_type == "text":
        msg["text"] = {"body": _text_of(spec)}
    elif msg_type in MEDIA_TYPES:
        obj = {"mime_type": media["mime_type"], "sha256": media["sha256"], "id": media["id"]}
        if msg_type in ("image", "video", "document") and spec.get("caption"):
            obj["caption"] = spec["caption"]
        if msg_type == "document":
            obj["filename"] = spec.get("filename") or "document.pdf"
        if msg_type == "audio":
            obj["voice"] = bool(spec.get("voice", False))
        if msg_type == "sticker":
            obj["animated"] = bool(spec.get("animated", False))
        if spec.get("media_url"):
            obj["url"] = media.get("url")
        msg[msg_type] = obj
    elif msg_type == "location":
        # With a ``location`` object, a top-level ``name`` is the customer's, not the place's.
        given = _type_object(spec, "location")
        loc = given or {
            "latitude": spec.get("latitude", -23.5613),
            "longitude": spec.get("longitude", -46.6565),
        }
        if spec.get("place_name") and "name" not in loc:
            loc["name"] = spec["place_name"]
        for key in ("address", "url") if given else ("name", "address", "url"):
            if spec.get(key) and key not in loc:
                loc[key] = spec[key]
        msg["location"] = loc
    elif msg_type == "contacts":
        contacts = spec.get("contacts")
        if not isinstance(contacts, list) or not contacts:
            contacts = [{
                "name": {"formatted_name": "María José Pérez", "first_name": "María José",
                         "last_name": "Pérez"},
                "phones": [{"phone": "+34 612 34 56 78", "wa_id": "34612345678",
                            "type": "CELL"}],
            }]
        msg["contacts"] = contacts
    elif msg_type == "interactive":
        obj = _type_object(spec, "interactive")
        if not obj:
            if spec.get("list_reply"):
                obj = {"type": "list_reply", "list_reply": dict(spec["list_reply"])}
            elif spec.get("nfm_reply"):
                obj = {"type": "nfm_reply", "nfm_reply": dict(spec["nfm_reply"])}
            else:
                reply = spec.get("button_reply") or {"id": "btn_yes", "title": "Yes"}
                obj = {"type": "button_reply", "button_reply": dict(reply)}
        msg["interactive"] = obj
    elif msg_type == "button":
        obj = _type_object(spec, "button") or {
            "payload": spec.get("payload", "QUICK_REPLY"),
            "text": spec.get("text") if isinstance(spec.get("text"), str) else "OK",
        }
        msg["button"] = obj
    elif msg_type == "reaction":
        obj = _type_object(spec, "reaction") or {
            "message_id": spec.get("message_id") or spec.get("context_id") or "",
            "emoji": spec.get("emoji", "👍"),
        }
        msg["reaction"] = obj
        msg.pop("context", None)
    elif msg_type == "order":
        obj = _type_object(spec, "order") or {
            "catalog_id": spec.get("catalog_id", "354160437058781"),
            "text": _text_of(spec),
            "product_items": spec.get("product_items") or [
                {"product_retailer_id": "SKU-001", "quantity": 2, "item_price": 19.9,
                 "currency": "BRL"}],
        }
        msg["order"] = obj
    elif msg_type == "system":  # a hand-made one; ControlMixin.customer_changes_number
        msg["system"] = _type_object(spec, "system") or {  # builds Meta's
            "body": spec.get("body") or "User changed", "type": spec.get("system_type",
                                                                         "user_changed_number")}
    elif msg_type == "unsupported":
        msg["errors"] = [{
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }]
        if spec.get("unsupported_type"):
            msg["unsupported"] = {"type": spec["unsupported_type"]}
    else:
        obj = spec.get(msg_type)
        msg[msg_type] = obj if obj is not None else {}
    extra = spec.get("message")
    if isinstance(extra, dict):
        msg.update(extra)
    return msg


def system_message(customer: dict[str, Any], *, wamid: str, timestamp: int,
                   old_wa_id: str, old_bsuid: str, number_shared: bool) -> dict[str, Any]:
    """The ``system`` message of a number change, after ``customer`` took the new number
    and BSUID. Meta's system reference (webhooks/reference/messages/system/):
    ``user_changed_number`` when the new number can be shared (``from`` the old number,
    ``system.wa_id`` the new one), else ``user_changed_user_id`` with the BSUIDs only.
    ``system.user_id``/``previous_user_id`` as in pywa's own fixture (tests/data/updates/
    system.json)."""
    name = customer.get("name") or "User"
    msg: dict[str, Any] = {"id": wamid, "timestamp": str(timestamp), "type": "system"}
    if number_shared:
        msg["from"] = old_wa_id
        msg["from_user_id"] = old_bsuid
        msg["system"] = {"body": f"User {name} changed from {old_wa_id} to "
                                 f"{customer['wa_id']}",
                         "wa_id": customer["wa_id"], "type": "user_changed_number",
                         "user_id": customer["bsuid"]}
    else:
        msg["from_user_id"] = old_bsuid
        msg["system"] = {"body": f"User changed from {old_bsuid} to {customer['bsuid']}",
                         "user_id": customer["bsuid"], "previous_user_id": old_bsuid,
                         "type": "user_changed_user_id"}
    if customer.get("parent_bsuid"):
        msg["system"]["parent_user_id"] = customer["parent_bsuid"]
    return msg
