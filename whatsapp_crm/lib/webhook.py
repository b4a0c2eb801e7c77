"""Verify and parse WhatsApp Cloud API webhooks into typed, frozen events.

Meta retries any non-200 for up to 7 days, so parsing is deliberately tolerant:
only a body that is not a JSON object raises (MalformedPayload). Unknown fields,
types and changes, missing keys and wrongly typed values never raise; they give
None/empty values or an UnknownChange event, and every object keeps its ``raw``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass

from .webhook_events import (  # noqa: F401 - re-exported: callers use webhook.X
    AccountUpdate,
    ButtonReply,
    GraphErrorInfo,
    InboundMessage,
    InteractiveReply,
    Location,
    Media,
    MessageContext,
    MessageStatus,
    PhoneNumberQualityUpdate,
    Pricing,
    Reaction,
    Referral,
    SystemNotice,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
    UnknownChange,
    UserPreference,
    ValueErrorsEvent,
    WebhookEvent,
    _raw_field,
    as_dict,
    as_dicts,
    as_str,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE_PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdef")


# ---------------------------------------------------------------- signatures

def compute_signature(app_secret: str | bytes, raw_body: bytes) -> str:
    """``sha256=<hex>`` HMAC of the raw request body, as Meta sends it."""
    if not isinstance(raw_body, (bytes, bytearray, memoryview)):
        # Re-serialised JSON does not match Meta's bytes (non-ASCII escaping),
        # so refuse anything but the raw body.
        raise TypeError("raw_body must be the raw request bytes")
    key = app_secret.encode() if isinstance(app_secret, str) else bytes(app_secret)
    return _SIGNATURE_PREFIX + hmac.new(key, bytes(raw_body), hashlib.sha256).hexdigest()


def verify_signature(app_secret: str | bytes, raw_body: bytes, header_value: str | None) -> bool:
    """Constant-time check of ``X-Hub-Signature-256`` against the raw body."""
    if not app_secret or not isinstance(header_value, str):
        # An empty secret would make the signature forgeable by anyone.
        return False
    header_value = header_value.strip()
    if not header_value.startswith(_SIGNATURE_PREFIX):
        return False
    received = header_value[len(_SIGNATURE_PREFIX):].lower()
    if len(received) != 64 or not _HEX_DIGITS.issuperset(received):
        return False
    expected = compute_signature(app_secret, raw_body)[len(_SIGNATURE_PREFIX):]
    return hmac.compare_digest(expected, received)


# ------------------------------------------------------------------ envelope

class MalformedPayload(ValueError):
    """The body is not a JSON object; nothing can be extracted from it."""


@dataclass(frozen=True)
class Change:
    field: str | None
    value: dict
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, raw: dict) -> Change:
        return cls(field=as_str(raw.get("field")), value=as_dict(raw.get("value")), raw=raw)


@dataclass(frozen=True)
class Entry:
    id: str | None
    changes: tuple[Change, ...]
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, raw: dict) -> Entry:
        changes = tuple(Change.from_dict(c) for c in as_dicts(raw.get("changes")))
        return cls(id=as_str(raw.get("id")), changes=changes, raw=raw)


@dataclass(frozen=True)
class WebhookPayload:
    object: str | None
    entries: tuple[Entry, ...]
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, raw: dict) -> WebhookPayload:
        entries = tuple(Entry.from_dict(e) for e in as_dicts(raw.get("entry")))
        return cls(object=as_str(raw.get("object")), entries=entries, raw=raw)

    def iter_events(self) -> Iterator[WebhookEvent]:
        """Every message, status and update of every entry and change, in payload order."""
        for entry in self.entries:
            for change in entry.changes:
                yield from _change_events(entry, change)


def parse_payload(raw: bytes | str | dict) -> WebhookPayload:
    if isinstance(raw, dict):
        return WebhookPayload.from_dict(raw)
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedPayload(f"webhook body is not UTF-8: {exc.reason}") from None
    if not isinstance(raw, str):
        raise MalformedPayload(f"cannot parse a webhook body of type {type(raw).__name__}")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedPayload(f"webhook body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedPayload(f"webhook body is a JSON {type(document).__name__}, not an object")
    return WebhookPayload.from_dict(document)


def routing_ids(payload: WebhookPayload) -> tuple[set[str], set[str]]:
    """(phone_number_ids, waba_ids) named in the payload, to pick the app secret."""
    phone_number_ids: set[str] = set()
    waba_ids: set[str] = set()
    for entry in payload.entries:
        if entry.id:
            waba_ids.add(entry.id)
        for change in entry.changes:
            phone_number_id = as_str(as_dict(change.value.get("metadata")).get("phone_number_id"))
            if phone_number_id:
                phone_number_ids.add(phone_number_id)
    return phone_number_ids, waba_ids


# What an event holds, for the order it is processed in: a customer's message first,
# statuses in batches (see whatsapp.crm.webhook.event).
KIND_MESSAGE, KIND_STATUS, KIND_OTHER = "message", "status", "other"


def payload_kind(payload: WebhookPayload) -> str:
    """``status`` when the payload holds delivery statuses only, ``message`` when it holds
    a customer's message (or a message-level error), else ``other``."""
    kinds = set()
    for entry in payload.entries:
        for change in entry.changes:
            value = change.value
            if change.field == "messages" and (value.get("messages") or value.get("errors")):
                kinds.add(KIND_MESSAGE)
            elif change.field == "messages" and value.get("statuses"):
                kinds.add(KIND_STATUS)
            else:
                kinds.add(KIND_OTHER)
    if KIND_MESSAGE in kinds:
        return KIND_MESSAGE
    return KIND_STATUS if kinds == {KIND_STATUS} else KIND_OTHER


def routing_from_raw(raw: bytes) -> tuple[set[str], set[str], str]:
    """(phone_number_ids, waba_ids, kind) of a raw body, parsed once; an unreadable body
    gives empty sets and ``other``."""
    try:
        payload = parse_payload(raw)
    except MalformedPayload:
        return set(), set(), KIND_OTHER
    return (*routing_ids(payload), payload_kind(payload))


# ----------------------------------------------------------- event building

def _base_fields(entry: Entry, change: Change) -> dict:
    metadata = as_dict(change.value.get("metadata"))
    return {
        "waba_id": entry.id,
        "field": change.field,
        "phone_number_id": as_str(metadata.get("phone_number_id")),
        "display_phone_number": as_str(
            metadata.get("display_phone_number") or change.value.get("display_phone_number")
        ),
    }


def _messages_field_events(base: dict, value: dict) -> Iterator[WebhookEvent]:
    contacts = as_dicts(value.get("contacts"))
    # Follow the key order of `value` so events come out in payload order.
    for key in value:
        if key == "messages":
            for message in as_dicts(value["messages"]):
                yield InboundMessage.from_dict(message, base=base, contacts=contacts)
        elif key == "statuses":
            for status in as_dicts(value["statuses"]):
                yield MessageStatus.from_dict(status, base=base)
        elif key == "errors":
            errors = tuple(GraphErrorInfo.from_dict(e) for e in as_dicts(value["errors"]))
            if errors:
                yield ValueErrorsEvent(**base, errors=errors, raw=value)


def _user_preference_events(base: dict, value: dict) -> Iterator[WebhookEvent]:
    for preference in as_dicts(value.get("user_preferences")):
        yield UserPreference.from_dict(preference, base=base)


def _single_event(event_class):
    def build(base: dict, value: dict) -> Iterator[WebhookEvent]:
        yield event_class.from_dict(value, base=base)

    return build


# One builder per webhook field; anything else becomes an UnknownChange.
_EVENT_BUILDERS_BY_FIELD = {
    "messages": _messages_field_events,
    "message_template_status_update": _single_event(TemplateStatusUpdate),
    "message_template_quality_update": _single_event(TemplateQualityUpdate),
    "template_category_update": _single_event(TemplateCategoryUpdate),
    "account_update": _single_event(AccountUpdate),
    "phone_number_quality_update": _single_event(PhoneNumberQualityUpdate),
    "user_preferences": _user_preference_events,
}


def _change_events(entry: Entry, change: Change) -> Iterator[WebhookEvent]:
    base = _base_fields(entry, change)
    builder = _EVENT_BUILDERS_BY_FIELD.get(change.field or "")
    if builder is None:
        yield UnknownChange(**base, raw=change.raw)
    else:
        yield from builder(base, change.value)
