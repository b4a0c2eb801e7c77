"""Typed, frozen webhook events and the tolerant value readers that build them.

Every ``from_dict`` ignores unknown keys and wrongly typed values and keeps the
original object in ``raw``; see webhook.py for the envelope and signatures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone

from .errors import CloudApiError, as_int

# ------------------------------------------------------------- value helpers

def _raw_field():
    return dataclasses.field(default_factory=dict, repr=False, compare=False)


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_dicts(value) -> tuple[dict, ...]:
    """The dict items of a list; anything else (wrong type, missing) gives ()."""
    return tuple(v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()


def as_str(value) -> str | None:
    # Ids sometimes arrive as numbers; booleans and containers are not text.
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def as_float(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_datetime(value) -> datetime | None:
    """Unix seconds (string or number) -> tz-aware UTC datetime; None when unusable."""
    seconds = as_float(value) if isinstance(value, (str, int, float)) else None
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _strings(source: dict, attrs_by_key: dict[str, str]) -> dict:
    return {attr: as_str(source.get(key)) for attr, key in attrs_by_key.items()}


# ------------------------------------------------------------- value objects

@dataclass(frozen=True)
class GraphErrorInfo:
    code: int | None
    title: str | None
    message: str | None
    details: str | None
    href: str | None
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, raw: dict) -> GraphErrorInfo:
        error_data = as_dict(raw.get("error_data"))
        return cls(code=as_int(raw.get("code")), details=as_str(error_data.get("details")),
                   **_strings(raw, {"title": "title", "message": "message", "href": "href"}),
                   raw=raw)

    def to_exception(self) -> CloudApiError:
        return CloudApiError.from_graph_error(self.raw)


@dataclass(frozen=True)
class Media:
    id: str | None
    mime_type: str | None
    sha256: str | None
    caption: str | None
    filename: str | None
    voice: bool
    animated: bool
    url: str | None

    @classmethod
    def from_dict(cls, raw: dict) -> Media:
        keys = ("id", "mime_type", "sha256", "caption", "filename", "url")
        return cls(voice=raw.get("voice") is True, animated=raw.get("animated") is True,
                   **_strings(raw, {key: key for key in keys}))


@dataclass(frozen=True)
class Location:
    latitude: float | None
    longitude: float | None
    name: str | None
    address: str | None
    url: str | None

    @classmethod
    def from_dict(cls, raw: dict) -> Location:
        return cls(latitude=as_float(raw.get("latitude")), longitude=as_float(raw.get("longitude")),
                   **_strings(raw, {"name": "name", "address": "address", "url": "url"}))


@dataclass(frozen=True)
class InteractiveReply:
    kind: str | None  # button_reply, list_reply, nfm_reply (Flows) or what Meta sent
    id: str | None
    title: str | None
    description: str | None
    response_json: str | None  # Flows: the form answers, itself a JSON string
    body: str | None = None

    @classmethod
    def from_dict(cls, raw: dict) -> InteractiveReply:
        kind = as_str(raw.get("type"))
        reply = as_dict(raw.get(kind)) if kind else {}
        return cls(kind=kind, **_strings(reply, {
            "id": "id", "title": "title", "description": "description",
            "response_json": "response_json", "body": "body"}))


@dataclass(frozen=True)
class ButtonReply:
    payload: str | None
    text: str | None


@dataclass(frozen=True)
class Reaction:
    message_id: str | None
    emoji: str | None  # "" or None: the user removed the reaction

    @property
    def removed(self) -> bool:
        return not self.emoji


@dataclass(frozen=True)
class SystemNotice:
    body: str | None
    type: str | None  # user_changed_number, customer_identity_changed, user_changed_user_id
    wa_id: str | None  # user_changed_number: the new number
    user_id: str | None  # the new BSUID
    previous_user_id: str | None  # user_changed_user_id: the BSUID it replaces
    raw: dict = _raw_field()

    @classmethod
    def from_dict(cls, raw: dict) -> SystemNotice:
        return cls(body=as_str(raw.get("body")), type=as_str(raw.get("type")),
                   wa_id=as_str(raw.get("wa_id") or raw.get("new_wa_id")),
                   user_id=as_str(raw.get("user_id")),
                   previous_user_id=as_str(raw.get("previous_user_id")), raw=raw)


@dataclass(frozen=True)
class MessageContext:
    from_: str | None
    id: str | None  # the quoted message, usually one of our wamids
    forwarded: bool
    frequently_forwarded: bool

    @classmethod
    def from_dict(cls, raw: dict) -> MessageContext:
        return cls(from_=as_str(raw.get("from")), id=as_str(raw.get("id")),
                   forwarded=raw.get("forwarded") is True,
                   frequently_forwarded=raw.get("frequently_forwarded") is True)


@dataclass(frozen=True)
class Referral:
    """Click-to-WhatsApp ad or post that opened the conversation."""

    source_url: str | None
    source_id: str | None
    source_type: str | None
    body: str | None
    headline: str | None
    media_type: str | None
    image_url: str | None
    video_url: str | None
    thumbnail_url: str | None
    ctwa_clid: str | None
    welcome_message_text: str | None

    @classmethod
    def from_dict(cls, raw: dict) -> Referral:
        keys = ("source_url", "source_id", "source_type", "body", "headline", "media_type",
                "image_url", "video_url", "thumbnail_url", "ctwa_clid")
        welcome_text = as_str(as_dict(raw.get("welcome_message")).get("text"))
        return cls(welcome_message_text=welcome_text, **_strings(raw, {k: k for k in keys}))


@dataclass(frozen=True)
class Pricing:
    billable: bool | None
    pricing_model: str | None
    type: str | None
    category: str | None

    @classmethod
    def from_dict(cls, raw: dict) -> Pricing:
        billable = raw.get("billable")
        return cls(billable=billable if isinstance(billable, bool) else None,
                   **_strings(raw, {"pricing_model": "pricing_model", "type": "type",
                                    "category": "category"}))


# -------------------------------------------------------------------- events

@dataclass(frozen=True, kw_only=True)
class WebhookEvent:
    """Routing fields shared by every event."""

    waba_id: str | None = None  # entry.id
    field: str | None = None  # change.field
    phone_number_id: str | None = None  # value.metadata
    display_phone_number: str | None = None
    raw: dict = _raw_field()


KNOWN_MESSAGE_TYPES = frozenset({
    "text", "image", "video", "audio", "document", "sticker", "location", "contacts",
    "interactive", "button", "reaction", "order", "system", "unsupported"})
_MEDIA_MESSAGE_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})


@dataclass(frozen=True, kw_only=True)
class InboundMessage(WebhookEvent):
    wamid: str | None = None
    from_wa_id: str | None = None
    from_user_id: str | None = None  # BSUID, from 2026
    profile_name: str | None = None
    profile_username: str | None = None
    timestamp: datetime | None = None
    type: str | None = None
    text: str | None = None
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[dict, ...] = ()
    interactive: InteractiveReply | None = None
    button: ButtonReply | None = None
    reaction: Reaction | None = None
    order: dict | None = None
    system: SystemNotice | None = None
    errors: tuple[GraphErrorInfo, ...] = ()
    context: MessageContext | None = None
    referral: Referral | None = None
    group_id: str | None = None

    @classmethod
    def from_dict(cls, raw: dict, *, base: dict, contacts: tuple[dict, ...] = ()):
        message_type = as_str(raw.get("type"))
        content = raw.get(message_type) if message_type else None
        content_dict = as_dict(content)
        from_wa_id, from_user_id = as_str(raw.get("from")), as_str(raw.get("from_user_id"))
        profile = as_dict(_sender_contact(contacts, from_wa_id, from_user_id).get("profile"))

        def typed(kind, builder):
            return builder(content_dict) if message_type in kind and content_dict else None

        return cls(
            **base, raw=raw, wamid=as_str(raw.get("id")), from_wa_id=from_wa_id,
            from_user_id=from_user_id, profile_name=as_str(profile.get("name")),
            profile_username=as_str(profile.get("username")),
            timestamp=as_datetime(raw.get("timestamp")), type=message_type,
            text=as_str(content_dict.get("body")) if message_type == "text" else None,
            media=typed(_MEDIA_MESSAGE_TYPES, Media.from_dict),
            location=typed({"location"}, Location.from_dict),
            contacts=as_dicts(content) if message_type == "contacts" else (),
            interactive=typed({"interactive"}, InteractiveReply.from_dict),
            button=typed({"button"}, lambda b: ButtonReply(
                payload=as_str(b.get("payload")), text=as_str(b.get("text")))),
            reaction=typed({"reaction"}, lambda r: Reaction(
                message_id=as_str(r.get("message_id")), emoji=as_str(r.get("emoji")))),
            order=typed({"order"}, dict),
            system=typed({"system"}, SystemNotice.from_dict),
            errors=tuple(GraphErrorInfo.from_dict(e) for e in as_dicts(raw.get("errors"))),
            context=MessageContext.from_dict(raw["context"])
            if isinstance(raw.get("context"), dict) else None,
            referral=Referral.from_dict(raw["referral"])
            if isinstance(raw.get("referral"), dict) else None,
            group_id=as_str(raw.get("group_id")),
        )

    @property
    def sender_key(self) -> str | None:
        """One key per customer: the BSUID that every message carries since April 2026,
        else the number (older payloads)."""
        previous = self.system.previous_user_id if self.system else None
        return self.from_user_id or self.from_wa_id or previous

    @property
    def is_known_type(self) -> bool:
        return self.type in KNOWN_MESSAGE_TYPES

    def preview_text(self) -> str:
        """Plain human text for any message type (chatter bodies, list previews)."""
        builder = _PREVIEW_BUILDERS.get(self.type or "")
        if builder is not None:
            return builder(self)
        if self.media is not None:
            return self.media.caption or self.media.filename or f"[{self.type}]"
        return f"[{self.type or 'unknown'} message]"


def _sender_contact(contacts, wa_id, user_id) -> dict:
    for contact in contacts:
        if (wa_id and as_str(contact.get("wa_id")) == wa_id) or (
            user_id and as_str(contact.get("user_id")) == user_id
        ):
            return contact
    return {}


def _location_preview(message: InboundMessage) -> str:
    location = message.location
    if location is None:
        return "[location]"
    label = ", ".join(part for part in (location.name, location.address) if part)
    if location.latitude is not None and location.longitude is not None:
        label = f"{label} ({location.latitude}, {location.longitude})".strip()
    return label or "[location]"


def _contacts_preview(message: InboundMessage) -> str:
    cards = []
    for card in message.contacts:
        name = as_str(as_dict(card.get("name")).get("formatted_name")) or ""
        phones = [as_str(p.get("phone")) or as_str(p.get("wa_id")) or ""
                  for p in as_dicts(card.get("phones"))]
        cards.append(" ".join(part for part in [name, ", ".join(filter(None, phones))] if part))
    return "; ".join(filter(None, cards)) or "[contacts]"


def _interactive_preview(message: InboundMessage) -> str:
    reply = message.interactive
    if reply is None:
        return "[interactive]"
    return reply.title or reply.body or reply.description or f"[{reply.kind or 'interactive'}]"


def _order_preview(message: InboundMessage) -> str:
    order = message.order or {}
    items = as_dicts(order.get("product_items"))
    quantity = sum(as_int(item.get("quantity")) or 0 for item in items)
    summary = f"[order: {quantity} item{'s' if quantity != 1 else ''}]"
    text = as_str(order.get("text"))
    return f"{summary} {text}" if text else summary


def _unsupported_preview(message: InboundMessage) -> str:
    if not message.errors:
        return "[unsupported message]"
    error = message.errors[0]
    detail = " ".join(str(p) for p in (error.code, error.title) if p not in (None, ""))
    return f"[unsupported message: {detail}]"


def _media_preview(message: InboundMessage) -> str:
    media = message.media
    if media is not None and (media.caption or media.filename):
        return media.caption or media.filename
    if message.type == "audio" and media is not None and media.voice:
        return "[voice message]"
    return f"[{message.type}]"


_PREVIEW_BUILDERS = {
    "text": lambda m: m.text or "",
    **dict.fromkeys(_MEDIA_MESSAGE_TYPES, _media_preview),
    "location": _location_preview,
    "contacts": _contacts_preview,
    "interactive": _interactive_preview,
    "button": lambda m: (m.button and (m.button.text or m.button.payload)) or "[button]",
    "reaction": lambda m: (m.reaction and m.reaction.emoji) or "[reaction removed]",
    "order": _order_preview,
    "system": lambda m: (m.system and m.system.body) or "[system message]",
    "unsupported": _unsupported_preview,
}


@dataclass(frozen=True, kw_only=True)
class MessageStatus(WebhookEvent):
    wamid: str | None = None
    status: str | None = None  # sent, delivered, read, failed, played
    timestamp: datetime | None = None
    recipient_id: str | None = None  # may be missing when sent to a BSUID
    recipient_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    errors: tuple[GraphErrorInfo, ...] = ()
    pricing: Pricing | None = None
    conversation_id: str | None = None  # omitted from v24.0 except free entry points
    conversation_expiration: datetime | None = None
    conversation_origin: str | None = None

    @classmethod
    def from_dict(cls, raw: dict, *, base: dict) -> MessageStatus:
        conversation = as_dict(raw.get("conversation"))
        pricing = raw.get("pricing")
        return cls(
            **base, raw=raw, timestamp=as_datetime(raw.get("timestamp")),
            **_strings(raw, {"wamid": "id", "status": "status", "recipient_id": "recipient_id",
                             "recipient_user_id": "recipient_user_id",
                             "biz_opaque_callback_data": "biz_opaque_callback_data"}),
            errors=tuple(GraphErrorInfo.from_dict(e) for e in as_dicts(raw.get("errors"))),
            pricing=Pricing.from_dict(pricing) if isinstance(pricing, dict) else None,
            conversation_id=as_str(conversation.get("id")),
            conversation_expiration=as_datetime(conversation.get("expiration_timestamp")),
            conversation_origin=as_str(as_dict(conversation.get("origin")).get("type")),
        )


@dataclass(frozen=True, kw_only=True)
class ValueErrorsEvent(WebhookEvent):
    """System or account errors reported at `value` level of a messages change."""

    errors: tuple[GraphErrorInfo, ...] = ()


_TEMPLATE_KEYS = {"template_id": "message_template_id", "name": "message_template_name",
                  "language": "message_template_language"}


@dataclass(frozen=True, kw_only=True)
class TemplateStatusUpdate(WebhookEvent):
    event: str | None = None  # APPROVED, REJECTED, PAUSED, DISABLED...
    template_id: str | None = None
    name: str | None = None
    language: str | None = None
    reason: str | None = None
    category: str | None = None
    other_info_title: str | None = None  # FIRST_PAUSE, SECOND_PAUSE, UNPAUSE, DISABLED...
    other_info_description: str | None = None
    rejection_reason: str | None = None
    rejection_recommendation: str | None = None
    disable_info: dict | None = None

    @classmethod
    def from_dict(cls, raw: dict, *, base: dict) -> TemplateStatusUpdate:
        other_info, rejection = as_dict(raw.get("other_info")), as_dict(raw.get("rejection_info"))
        disable_info = raw.get("disable_info")
        return cls(
            **base, raw=raw,
            **_strings(raw, {**_TEMPLATE_KEYS, "event": "event", "reason": "reason",
                             "category": "message_template_category"}),
            other_info_title=as_str(other_info.get("title")),
            other_info_description=as_str(other_info.get("description")),
            rejection_reason=as_str(rejection.get("reason")),
            rejection_recommendation=as_str(rejection.get("recommendation")),
            disable_info=disable_info if isinstance(disable_info, dict) else None,
        )


@dataclass(frozen=True, kw_only=True)
class TemplateQualityUpdate(WebhookEvent):
    template_id: str | None = None
    name: str | None = None
    language: str | None = None
    previous_quality: str | None = None  # GREEN, YELLOW, RED, UNKNOWN
    new_quality: str | None = None

    @classmethod
    def from_dict(cls, raw: dict, *, base: dict) -> TemplateQualityUpdate:
        return cls(**base, raw=raw, **_strings(raw, {
            **_TEMPLATE_KEYS, "previous_quality": "previous_quality_score",
            "new_quality": "new_quality_score"}))


@dataclass(frozen=True, kw_only=True)
class TemplateCategoryUpdate(WebhookEvent):
    template_id: str | None = None
    name: str | None = None
    language: str | None = None
    previous_category: str | None = None
    new_category: str | None = None
    correct_category: str | None = None

    @classmethod
    def from_dict(cls, raw: dict, *, base: dict) -> TemplateCategoryUpdate:
        keys = ("previous_category", "new_category", "correct_category")
        return cls(**base, raw=raw, **_strings(raw, {**_TEMPLATE_KEYS, **{k: k for k in keys}}))


@dataclass(frozen=True, kw_only=True)
class AccountUpdate(WebhookEvent):
    event: str | None = None  # ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, DISABLED_UPDATE...

    @classmethod
    def from_dict(cls, raw: dict, *, base: dict) -> AccountUpdate:
        return cls(**base, raw=raw, event=as_str(raw.get("event")))


@dataclass(frozen=True, kw_only=True)
class PhoneNumberQualityUpdate(WebhookEvent):
    event: str | None = None
    max_daily_conversations: str | None = None  # TIER_250 ... TIER_UNLIMITED
    current_limit: str | None = None  # scheduled for removal in Feb 2026

    @classmethod
    def from_dict(cls, raw: dict, *, base: dict) -> PhoneNumberQualityUpdate:
        tier = raw.get("max_daily_conversations_per_business") or raw.get(
            "max_daily_conversation_per_phone")
        return cls(**base, raw=raw, event=as_str(raw.get("event")),
                   max_daily_conversations=as_str(tier),
                   current_limit=as_str(raw.get("current_limit")))


@dataclass(frozen=True, kw_only=True)
class UserPreference(WebhookEvent):
    wa_id: str | None = None
    user_id: str | None = None
    category: str | None = None  # marketing_messages
    value: str | None = None  # stop, resume, signup
    detail: str | None = None
    timestamp: datetime | None = None

    @classmethod
    def from_dict(cls, raw: dict, *, base: dict) -> UserPreference:
        keys = ("wa_id", "user_id", "category", "value", "detail")
        return cls(**base, raw=raw, timestamp=as_datetime(raw.get("timestamp")),
                   **_strings(raw, {k: k for k in keys}))


@dataclass(frozen=True, kw_only=True)
class UnknownChange(WebhookEvent):
    """A change whose field we do not handle; kept so nothing is silently lost."""
