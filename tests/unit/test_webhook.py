"""Webhook signature checks and tolerant parsing into typed events.

Signatures: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
Payloads: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
"""

import json
from datetime import datetime, timezone

import pytest

from lib import webhook
from lib.errors import ReengagementError
from lib.webhook import (
    AccountUpdate,
    InboundMessage,
    MalformedPayload,
    MessageStatus,
    PhoneNumberQualityUpdate,
    TemplateCategoryUpdate,
    TemplateQualityUpdate,
    TemplateStatusUpdate,
    UnknownChange,
    UserPreference,
    ValueErrorsEvent,
)

WABA_ID = "100000000000001"
PHONE_ID = "200000000000002"
METADATA = {"display_phone_number": "15550001111", "phone_number_id": PHONE_ID}
SECRET = "app-secret-123"


def envelope(*changes, waba_id=WABA_ID):
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba_id, "changes": list(changes)}]}


def messages_change(messages=(), statuses=(), contacts=(), **extra):
    value = {"messaging_product": "whatsapp", "metadata": METADATA, **extra}
    if contacts:
        value["contacts"] = list(contacts)
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {"field": "messages", "value": value}


def inbound(message_type, content, **extra):
    message = {"from": "5511987654321", "id": f"wamid.{message_type}", "type": message_type,
               "timestamp": "1767225600", **extra}
    if content is not None:
        message[message_type] = content
    return message


def only_event(payload_dict):
    events = list(webhook.parse_payload(payload_dict).iter_events())
    assert len(events) == 1, events
    return events[0]


def parse_message(message_type, content, contacts=(), **extra):
    return only_event(envelope(messages_change(
        [inbound(message_type, content, **extra)], contacts=contacts)))


# ---------------------------------------------------------------- signatures

def test_signature_round_trip():
    body = b'{"object":"whatsapp_business_account"}'
    header = webhook.compute_signature(SECRET, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert webhook.verify_signature(SECRET, body, header)
    assert webhook.verify_signature(SECRET.encode(), body, header)
    assert webhook.verify_signature(SECRET, body, header.upper().replace("SHA256=", "sha256="))


@pytest.mark.parametrize("header", [
    None, "", "   ", "sha1=" + "0" * 64, "sha256=", "sha256=" + "0" * 63, "sha256=" + "g" * 64,
    "0" * 64,
])
def test_signature_rejects_malformed_headers(header):
    assert webhook.verify_signature(SECRET, b"{}", header) is False


def test_signature_rejects_other_secret_body_or_empty_secret():
    body = b'{"a":1}'
    header = webhook.compute_signature(SECRET, body)
    assert not webhook.verify_signature("other-secret", body, header)
    assert not webhook.verify_signature(SECRET, b'{"a":2}', header)
    assert not webhook.verify_signature("", body, webhook.compute_signature("", body))


def test_signature_is_over_raw_bytes_not_reserialised_json():
    # Meta signs its exact bytes; json.dumps escapes non-ASCII differently.
    raw = '{"body":"ação 😀"}'.encode()
    reserialised = json.dumps(json.loads(raw)).encode()
    assert raw != reserialised
    header = webhook.compute_signature(SECRET, raw)
    assert header != webhook.compute_signature(SECRET, reserialised)
    assert webhook.verify_signature(SECRET, raw, header)
    assert not webhook.verify_signature(SECRET, reserialised, header)


def test_compute_signature_refuses_text():
    with pytest.raises(TypeError):
        webhook.compute_signature(SECRET, '{"a":1}')


# ---------------------------------------------------------------- messages

def test_text_message_with_context_and_profile():
    message = parse_message(
        "text", {"body": "Is order SO042 shipped?"},
        contacts=[{"profile": {"name": "Other"}, "wa_id": "5511000000000"},
                  {"profile": {"name": "Ana Lima", "username": "ana"},
                   "wa_id": "5511987654321", "user_id": "BR.ana1"}],
        context={"from": "15550001111", "id": "wamid.OUT9"})
    assert isinstance(message, InboundMessage)
    assert (message.waba_id, message.field) == (WABA_ID, "messages")
    assert (message.phone_number_id, message.display_phone_number) == (PHONE_ID, "15550001111")
    assert message.wamid == "wamid.text"
    assert message.from_wa_id == "5511987654321"
    assert (message.profile_name, message.profile_username) == ("Ana Lima", "ana")
    assert message.timestamp == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert message.text == "Is order SO042 shipped?"
    assert message.context.id == "wamid.OUT9"
    assert message.context.from_ == "15550001111"
    assert not message.context.forwarded
    assert message.is_known_type
    assert message.preview_text() == "Is order SO042 shipped?"


def test_profile_matched_by_bsuid_when_from_is_missing():
    message = parse_message(
        "text", {"body": "hi"}, contacts=[{"profile": {"username": "neo"}, "user_id": "BR.n1"}],
        **{"from": None, "from_user_id": "BR.n1", "group_id": "G1"})
    assert message.from_wa_id is None
    assert message.from_user_id == "BR.n1"
    assert message.profile_username == "neo"
    assert message.group_id == "G1"


def test_non_ascii_text_survives_bytes_parsing():
    raw = json.dumps(envelope(messages_change([inbound("text", {"body": "ação 😀"})])),
                     ensure_ascii=False).encode()
    message = only_event(webhook.parse_payload(raw).raw)
    assert message.text == "ação 😀"


@pytest.mark.parametrize(("message_type", "content", "preview"), [
    ("image", {"id": "I1", "mime_type": "image/jpeg", "sha256": "h", "caption": "Broken part",
               "url": "https://lookaside.test/i1"}, "Broken part"),
    ("image", {"id": "I2", "mime_type": "image/jpeg"}, "[image]"),
    ("video", {"id": "V1", "mime_type": "video/mp4"}, "[video]"),
    ("document", {"id": "D1", "mime_type": "application/pdf", "filename": "nf.pdf"}, "nf.pdf"),
    ("audio", {"id": "A1", "mime_type": "audio/ogg; codecs=opus", "voice": True},
     "[voice message]"),
    ("audio", {"id": "A2", "mime_type": "audio/mpeg"}, "[audio]"),
    ("sticker", {"id": "S1", "mime_type": "image/webp", "animated": True}, "[sticker]"),
])
def test_media_messages(message_type, content, preview):
    message = parse_message(message_type, content)
    assert message.media.id == content["id"]
    assert message.media.mime_type == content["mime_type"]
    assert message.media.caption == content.get("caption")
    assert message.media.filename == content.get("filename")
    assert message.media.url == content.get("url")
    assert message.media.voice is bool(content.get("voice"))
    assert message.media.animated is bool(content.get("animated"))
    assert message.text is None
    assert message.preview_text() == preview


def test_location_message():
    message = parse_message("location", {"latitude": -23.55, "longitude": -46.63,
                                         "name": "Loja", "address": "Av. Paulista 1000"})
    assert (message.location.latitude, message.location.longitude) == (-23.55, -46.63)
    assert message.preview_text() == "Loja, Av. Paulista 1000 (-23.55, -46.63)"
    bare = parse_message("location", {"latitude": 1.5, "longitude": 2})
    assert bare.preview_text() == "(1.5, 2.0)"


def test_contacts_message():
    cards = [{"name": {"formatted_name": "João Silva", "first_name": "João"},
              "phones": [{"phone": "+55 11 91234-5678", "wa_id": "5511912345678",
                          "type": "CELL"}]},
             {"name": {"formatted_name": "Maria"}}]
    message = parse_message("contacts", cards)
    assert message.contacts == tuple(cards)
    assert message.preview_text() == "João Silva +55 11 91234-5678; Maria"


@pytest.mark.parametrize(("content", "kind", "reply_id", "title", "preview"), [
    ({"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
     "button_reply", "yes", "Yes", "Yes"),
    ({"type": "list_reply", "list_reply": {"id": "r2", "title": "Blue", "description": "d"}},
     "list_reply", "r2", "Blue", "Blue"),
    ({"type": "nfm_reply", "nfm_reply": {"response_json": '{"a": 1}', "body": "Sent",
                                         "name": "flow"}},
     "nfm_reply", None, None, "Sent"),
])
def test_interactive_replies(content, kind, reply_id, title, preview):
    message = parse_message("interactive", content)
    assert (message.interactive.kind, message.interactive.id) == (kind, reply_id)
    assert message.interactive.title == title
    assert message.preview_text() == preview
    if kind == "nfm_reply":
        assert json.loads(message.interactive.response_json) == {"a": 1}
    if kind == "list_reply":
        assert message.interactive.description == "d"


def test_template_button_reply():
    message = parse_message("button", {"payload": "STOP_PROMO", "text": "Stop promotions"},
                            context={"from": "15550001111", "id": "wamid.TPL1"})
    assert (message.button.payload, message.button.text) == ("STOP_PROMO", "Stop promotions")
    assert message.preview_text() == "Stop promotions"


def test_reaction_and_removed_reaction():
    added = parse_message("reaction", {"message_id": "wamid.OUT1", "emoji": "❤️"})
    assert (added.reaction.message_id, added.reaction.emoji) == ("wamid.OUT1", "❤️")
    assert not added.reaction.removed
    assert added.preview_text() == "❤️"
    removed = parse_message("reaction", {"message_id": "wamid.OUT1"})
    assert removed.reaction.removed
    assert removed.preview_text() == "[reaction removed]"


def test_order_message():
    order = {"catalog_id": "C1", "text": "Quick please", "product_items": [
        {"product_retailer_id": "SKU1", "quantity": 2, "item_price": 10, "currency": "BRL"},
        {"product_retailer_id": "SKU2", "quantity": "1", "item_price": 5, "currency": "BRL"}]}
    message = parse_message("order", order)
    assert message.order == order
    assert message.preview_text() == "[order: 3 items] Quick please"


def test_system_message():
    message = parse_message("system", {"body": "Ana changed from A to B", "wa_id": "5511900000000",
                                       "type": "user_changed_number"})
    assert message.system.type == "user_changed_number"
    assert message.system.wa_id == "5511900000000"
    assert message.preview_text() == "Ana changed from A to B"


def test_bsuid_change_without_sender():
    """user_changed_user_id of a withheld number: no from, the old BSUID in the notice."""
    message = only_event(envelope(messages_change([{
        "id": "wamid.S1", "timestamp": "1767225600", "type": "system",
        "system": {"body": "User changed from CO.1 to MX.2", "type": "user_changed_user_id",
                   "user_id": "MX.2", "previous_user_id": "CO.1"}}])))
    assert message.from_wa_id is None and message.from_user_id is None
    assert (message.system.user_id, message.system.previous_user_id) == ("MX.2", "CO.1")
    assert message.sender_key == "CO.1"


def test_sender_key_prefers_the_bsuid():
    contact = {"profile": {"name": "Ana", "username": "@ana"}, "wa_id": "5511987654321",
               "user_id": "BR.77"}
    message = parse_message("text", {"body": "oi"}, contacts=[contact], from_user_id="BR.77")
    assert message.sender_key == "BR.77" and message.profile_username == "@ana"
    assert parse_message("text", {"body": "oi"}).sender_key == "5511987654321"


def test_unsupported_message_with_errors():
    message = parse_message("unsupported", None, errors=[{
        "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."}}])
    assert message.errors[0].code == 131051
    assert message.errors[0].details == "Message type is currently not supported."
    assert message.preview_text() == "[unsupported message: 131051 Message type unknown]"


def test_unknown_message_type_is_kept_and_flagged():
    message = parse_message("hologram", {"id": "H1"})
    assert message.type == "hologram"
    assert not message.is_known_type
    assert message.preview_text() == "[hologram message]"
    assert message.raw["hologram"] == {"id": "H1"}


def test_forwarded_context_and_referral():
    referral = {"source_url": "https://fb.me/ad", "source_id": "AD1", "source_type": "ad",
                "body": "Promo", "headline": "50% off", "media_type": "image",
                "image_url": "https://img.test/a.jpg", "thumbnail_url": "https://img.test/t.jpg",
                "ctwa_clid": "CLID1", "welcome_message": {"text": "Hi! How can we help?"}}
    message = parse_message("text", {"body": "I saw your ad"},
                            context={"forwarded": True, "frequently_forwarded": True},
                            referral=referral)
    assert message.context.forwarded and message.context.frequently_forwarded
    assert message.context.id is None
    assert message.referral.source_type == "ad"
    assert message.referral.ctwa_clid == "CLID1"
    assert message.referral.welcome_message_text == "Hi! How can we help?"
    assert message.referral.video_url is None


# ---------------------------------------------------------------- statuses

def status(wamid, state, **extra):
    return {"id": wamid, "status": state, "timestamp": "1767312000",
            "recipient_id": "5511987654321", **extra}


@pytest.mark.parametrize("state", ["sent", "delivered", "read", "played"])
def test_simple_statuses(state):
    event = only_event(envelope(messages_change(statuses=[status("wamid.O1", state)])))
    assert isinstance(event, MessageStatus)
    assert (event.wamid, event.status, event.recipient_id) == ("wamid.O1", state, "5511987654321")
    assert event.timestamp == datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert event.errors == ()


def test_sent_status_with_pricing_and_conversation():
    event = only_event(envelope(messages_change(statuses=[status(
        "wamid.O2", "sent", biz_opaque_callback_data="mail.message:1",
        pricing={"billable": True, "pricing_model": "PMP", "type": "regular",
                 "category": "utility"},
        conversation={"id": "CONV1", "expiration_timestamp": "1767398400",
                      "origin": {"type": "referral_conversion"}})])))
    assert event.biz_opaque_callback_data == "mail.message:1"
    assert (event.pricing.billable, event.pricing.pricing_model) == (True, "PMP")
    assert (event.pricing.type, event.pricing.category) == ("regular", "utility")
    assert event.conversation_id == "CONV1"
    assert event.conversation_expiration == datetime(2026, 1, 3, tzinfo=timezone.utc)
    assert event.conversation_origin == "referral_conversion"


def test_failed_status_errors_become_exceptions():
    error = {"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
             "error_data": {"details": "More than 24 hours have passed."},
             "href": "/documentation/error-codes"}
    event = only_event(envelope(messages_change(statuses=[status(
        "wamid.O3", "failed", errors=[error])])))
    info = event.errors[0]
    assert (info.code, info.title, info.href) == (131047, "Re-engagement message",
                                                  "/documentation/error-codes")
    assert info.details == "More than 24 hours have passed."
    exception = info.to_exception()
    assert isinstance(exception, ReengagementError)
    assert str(exception) == "(#131047) Re-engagement message: More than 24 hours have passed."
    assert event.pricing is None
    assert event.conversation_id is None


def test_status_to_bsuid_without_recipient_id():
    raw_status = {"id": "wamid.O4", "status": "delivered", "timestamp": "1767312000",
                  "recipient_user_id": "BR.x1", "contacts": [{"user_id": "BR.x1"}]}
    event = only_event(envelope(messages_change(statuses=[raw_status])))
    assert event.recipient_id is None
    assert event.recipient_user_id == "BR.x1"


def test_value_level_errors():
    change = messages_change(errors=[{"code": 131000, "title": "Something went wrong"}])
    event = only_event(envelope(change))
    assert isinstance(event, ValueErrorsEvent)
    assert event.errors[0].code == 131000
    assert event.errors[0].to_exception().retryable


# ---------------------------------------------------------------- batches

def test_batch_yields_every_entry_change_message_and_status_in_order():
    payload = {"object": "whatsapp_business_account", "entry": [
        {"id": "WABA1", "changes": [
            messages_change([inbound("text", {"body": "1"}, id="m1"),
                             inbound("text", {"body": "2"}, id="m2")]),
            messages_change(statuses=[status("s1", "sent"), status("s1", "delivered")]),
        ]},
        {"id": "WABA2", "changes": [
            messages_change([inbound("text", {"body": "3"}, id="m3")],
                            statuses=[status("s2", "read")]),
            {"field": "account_update", "value": {"event": "ACCOUNT_VIOLATION"}},
            messages_change([inbound("reaction", {"message_id": "x", "emoji": "👍"}, id="m4"),
                             inbound("text", {"body": "5"}, id="m5")]),
        ]},
    ]}
    events = list(webhook.parse_payload(json.dumps(payload)).iter_events())
    summary = [(e.waba_id, type(e).__name__, getattr(e, "wamid", None),
                getattr(e, "status", None)) for e in events]
    assert summary == [
        ("WABA1", "InboundMessage", "m1", None),
        ("WABA1", "InboundMessage", "m2", None),
        ("WABA1", "MessageStatus", "s1", "sent"),
        ("WABA1", "MessageStatus", "s1", "delivered"),
        ("WABA2", "InboundMessage", "m3", None),
        ("WABA2", "MessageStatus", "s2", "read"),
        ("WABA2", "AccountUpdate", None, None),
        ("WABA2", "InboundMessage", "m4", None),
        ("WABA2", "InboundMessage", "m5", None),
    ]


def test_routing_ids():
    payload = {"entry": [
        {"id": "WABA1", "changes": [messages_change([inbound("text", {"body": "x"})])]},
        {"id": "WABA2", "changes": [{"field": "messages", "value": {
            "metadata": {"phone_number_id": "P2"}}}]},
    ]}
    expected = ({PHONE_ID, "P2"}, {"WABA1", "WABA2"})
    assert webhook.routing_ids(webhook.parse_payload(payload)) == expected
    assert webhook.routing_from_raw(json.dumps(payload).encode()) == (*expected, "message")


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", b"", b"null"])
def test_routing_from_raw_never_raises(raw):
    assert webhook.routing_from_raw(raw) == (set(), set(), "other")


@pytest.mark.parametrize(("changes", "kind"), [
    ([messages_change(statuses=[{"id": "s1", "status": "read"}])], "status"),
    ([messages_change(statuses=[{"id": "s1", "status": "read"}]),
      messages_change(statuses=[{"id": "s2", "status": "sent"}])], "status"),
    ([messages_change([inbound("text", {"body": "x"})],
                      statuses=[{"id": "s1", "status": "read"}])], "message"),
    ([messages_change(statuses=[{"id": "s1", "status": "read"}]),
      {"field": "account_update", "value": {"event": "X"}}], "other"),
    ([messages_change(errors=[{"code": 131000}])], "message"),
    ([{"field": "calls", "value": {"calls": [{"id": "c"}]}}], "other"),
])
def test_payload_kind(changes, kind):
    payload = webhook.parse_payload({"entry": [{"id": "W", "changes": changes}]})
    assert webhook.payload_kind(payload) == kind


# ---------------------------------------------------------------- other fields

def field_event(field_name, value):
    return only_event(envelope({"field": field_name, "value": value}))


def test_template_status_update():
    event = field_event("message_template_status_update", {
        "event": "PAUSED", "message_template_id": 1234567, "message_template_name": "promo",
        "message_template_language": "pt_BR", "reason": None,
        "message_template_category": "MARKETING",
        "other_info": {"title": "FIRST_PAUSE", "description": "Low quality"},
        "rejection_info": {"reason": "PROMOTIONAL", "recommendation": "Change category"},
        "disable_info": {"disable_date": "DATE"}})
    assert isinstance(event, TemplateStatusUpdate)
    assert (event.event, event.template_id, event.name) == ("PAUSED", "1234567", "promo")
    assert (event.language, event.reason, event.category) == ("pt_BR", None, "MARKETING")
    assert (event.other_info_title, event.other_info_description) == ("FIRST_PAUSE",
                                                                      "Low quality")
    assert event.rejection_reason == "PROMOTIONAL"
    assert event.disable_info == {"disable_date": "DATE"}
    assert event.waba_id == WABA_ID and event.phone_number_id is None


def test_template_quality_update():
    event = field_event("message_template_quality_update", {
        "previous_quality_score": "GREEN", "new_quality_score": "YELLOW",
        "message_template_id": "77", "message_template_name": "promo",
        "message_template_language": "en_US"})
    assert isinstance(event, TemplateQualityUpdate)
    assert (event.template_id, event.previous_quality, event.new_quality) == ("77", "GREEN",
                                                                              "YELLOW")


def test_template_category_update():
    event = field_event("template_category_update", {
        "message_template_id": "88", "message_template_name": "otp",
        "message_template_language": "en", "previous_category": "UTILITY",
        "new_category": "MARKETING", "correct_category": "MARKETING"})
    assert isinstance(event, TemplateCategoryUpdate)
    assert (event.previous_category, event.new_category, event.correct_category) == (
        "UTILITY", "MARKETING", "MARKETING")


def test_account_and_phone_quality_updates():
    account = field_event("account_update", {"event": "ACCOUNT_RESTRICTION",
                                             "restriction_info": [{"x": 1}]})
    assert isinstance(account, AccountUpdate)
    assert account.event == "ACCOUNT_RESTRICTION"
    assert account.raw["restriction_info"] == [{"x": 1}]
    quality = field_event("phone_number_quality_update", {
        "display_phone_number": "15550001111", "event": "UPGRADE",
        "max_daily_conversations_per_business": "TIER_10K", "current_limit": "TIER_2K"})
    assert isinstance(quality, PhoneNumberQualityUpdate)
    assert (quality.event, quality.max_daily_conversations, quality.current_limit) == (
        "UPGRADE", "TIER_10K", "TIER_2K")
    assert quality.display_phone_number == "15550001111"


def test_user_preferences_one_event_per_item():
    payload = envelope({"field": "user_preferences", "value": {
        "metadata": METADATA, "user_preferences": [
            {"wa_id": "5511987654321", "category": "marketing_messages", "value": "stop",
             "timestamp": 1767225600},
            {"user_id": "BR.x1", "category": "marketing_messages", "value": "resume"}]}})
    first, second = webhook.parse_payload(payload).iter_events()
    assert isinstance(first, UserPreference)
    assert (first.wa_id, first.value, first.phone_number_id) == ("5511987654321", "stop",
                                                                 PHONE_ID)
    assert first.timestamp == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert (second.wa_id, second.user_id, second.value) == (None, "BR.x1", "resume")


def test_unknown_field_becomes_unknown_change():
    event = field_event("calls", {"calls": [{"id": "c1"}]})
    assert isinstance(event, UnknownChange)
    assert event.field == "calls"
    assert event.raw == {"field": "calls", "value": {"calls": [{"id": "c1"}]}}


# ---------------------------------------------------------------- robustness

@pytest.mark.parametrize("raw", [b"{not json", b'{"a": "\xff"}', b"[]", b'"text"', b"42",
                                 b"", "[{}]", 3.5])
def test_malformed_bodies_raise_malformed_payload(raw):
    with pytest.raises(MalformedPayload):
        webhook.parse_payload(raw)


def test_malformed_payload_is_a_value_error():
    assert issubclass(MalformedPayload, ValueError)


@pytest.mark.parametrize("document", [
    {},
    {"entry": "x"},
    {"entry": [None, 1, "x", {"changes": "x"}]},
    {"entry": [{"changes": [None, {"field": "messages"}, {"field": "messages", "value": 3}]}]},
    envelope({"field": "messages", "value": {"messages": "x", "statuses": {"a": 1},
                                             "errors": [1], "contacts": 5, "metadata": []}}),
    envelope({"field": "user_preferences", "value": {"user_preferences": "stop"}}),
    envelope({"field": "message_template_status_update", "value": None}),
])
def test_wrong_types_never_raise(document):
    payload = webhook.parse_payload(document)
    for event in payload.iter_events():
        assert event.raw is not None
    assert webhook.routing_ids(payload)[0] <= {PHONE_ID}


def test_wrong_types_inside_a_message_give_none():
    message = only_event(envelope(messages_change([{
        "from": ["x"], "id": 5, "timestamp": "yesterday", "type": "image", "image": "x",
        "context": "x", "referral": [1], "errors": "x"}])))
    assert message.wamid == "5"
    assert message.from_wa_id is None
    assert message.timestamp is None
    assert message.media is None
    assert message.context is None and message.referral is None
    assert message.errors == ()
    assert message.preview_text() == "[image]"


def test_missing_keys_give_none():
    message = only_event(envelope({"field": "messages", "value": {"messages": [{}]}}))
    assert (message.wamid, message.type, message.phone_number_id) == (None, None, None)
    assert message.preview_text() == "[unknown message]"
    assert not message.is_known_type


def test_parse_payload_accepts_bytes_str_and_dict_alike():
    document = envelope(messages_change([inbound("text", {"body": "olá"})]))
    text = json.dumps(document)
    parsed = [webhook.parse_payload(x) for x in (document, text, text.encode(),
                                                 bytearray(text.encode()))]
    assert all(p == parsed[0] for p in parsed)
    assert parsed[0].object == "whatsapp_business_account"
    assert parsed[0].entries[0].changes[0].field == "messages"


def test_events_are_frozen():
    message = parse_message("text", {"body": "x"})
    with pytest.raises(AttributeError):
        message.text = "y"
