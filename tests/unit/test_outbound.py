"""The typed builders of outbound messages (lib/outbound.py), without any HTTP."""

import pytest

from lib import interactive as interactive_lib
from lib import outbound

TO = "5511987654321"


# ---------------------------------------------------------------- recipient

@pytest.mark.parametrize(("raw", "normalized"), [
    ("+55 11 98765-4321", "+5511987654321"),
    ("5511987654321", "+5511987654321"),
    ("(555) 010-0000", "+5550100000"),
    ("  +1 555 0100 ", "+15550100"),
])
def test_normalize_recipient(raw, normalized):
    assert outbound.normalize_recipient(raw) == normalized


@pytest.mark.parametrize("bad_to", ["", "abc", "br.a1b2c3", "BR.", "+", "()-", None,
                                    5511987654321])
def test_bad_recipient_rejected(bad_to):
    with pytest.raises(ValueError):
        outbound.normalize_recipient(bad_to)
    with pytest.raises(ValueError):
        outbound.addressed(outbound.text("hi"), bad_to)


@pytest.mark.parametrize("bsuid", ["BR.1502576394655843", "US.ENT.11815799212886844830"])
def test_a_bsuid_is_addressed_through_recipient(bsuid):
    body = outbound.addressed(outbound.text("oi"), bsuid)
    assert body["recipient"] == bsuid and "to" not in body
    with pytest.raises(ValueError):  # never a phone number
        outbound.normalize_recipient(bsuid)


# ---------------------------------------------------------------- addressed

def test_addressed_full_body():
    assert outbound.addressed(outbound.text("Olá"), "+55 11 98765-4321", reply_to="wamid.IN1",
                              callback_data="mail.message:4711") == {
        "messaging_product": "whatsapp", "recipient_type": "individual",
        "to": "+5511987654321", "type": "text", "text": {"body": "Olá", "preview_url": False},
        "context": {"message_id": "wamid.IN1"}, "biz_opaque_callback_data": "mail.message:4711",
    }


def test_addressed_omits_absent_context_and_callback_data():
    body = outbound.addressed(outbound.text("hi"), TO, reply_to="")
    assert "context" not in body
    assert "biz_opaque_callback_data" not in body
    # An empty callback string is still ours to send; only None means "none".
    assert outbound.addressed(outbound.text("hi"), TO, callback_data="")[
        "biz_opaque_callback_data"] == ""


def test_addressed_does_not_change_the_message():
    message = outbound.media("image", media_id="M1")
    outbound.addressed(message, TO, reply_to="wamid.IN1", callback_data="x")
    assert message == {"type": "image", "image": {"id": "M1"}}


def test_callback_data_limit_is_512_characters():
    assert outbound.MAX_CALLBACK_DATA_LENGTH == 512
    body = outbound.addressed(outbound.text("ok"), TO, callback_data="é" * 512)
    assert body["biz_opaque_callback_data"] == "é" * 512
    with pytest.raises(ValueError, match="512"):
        outbound.addressed(outbound.text("ok"), TO, callback_data="x" * 513)


# ---------------------------------------------------------------- text

def test_text():
    assert outbound.text("hi") == {"type": "text", "text": {"body": "hi", "preview_url": False}}
    assert outbound.text("https://x.test", preview_url=1)["text"]["preview_url"] is True


@pytest.mark.parametrize("body", ["", "   \n", None, "x" * 4097])
def test_text_rejects_empty_or_too_long(body):
    with pytest.raises(ValueError):
        outbound.text(body)


def test_text_at_the_limit():
    assert outbound.text("x" * 4096)["text"]["body"] == "x" * 4096


# ---------------------------------------------------------------- media

@pytest.mark.parametrize(("args", "kwargs", "expected"), [
    (("image",), {"media_id": "M1", "caption": "Invoice"},
     {"type": "image", "image": {"id": "M1", "caption": "Invoice"}}),
    (("document",), {"link": "https://x.test/a.pdf", "filename": "SO042.pdf"},
     {"type": "document", "document": {"link": "https://x.test/a.pdf", "filename": "SO042.pdf"}}),
    (("audio",), {"media_id": "A1", "voice": True},
     {"type": "audio", "audio": {"id": "A1", "voice": True}}),
    (("sticker",), {"media_id": "S1"}, {"type": "sticker", "sticker": {"id": "S1"}}),
    (("video",), {"link": "https://x.test/v.mp4", "caption": "x" * 1024},
     {"type": "video", "video": {"link": "https://x.test/v.mp4", "caption": "x" * 1024}}),
    # Neither id nor link: the id is filled in when the attachment is uploaded.
    (("image",), {}, {"type": "image", "image": {}}),
])
def test_media_shapes(args, kwargs, expected):
    assert outbound.media(*args, **kwargs) == expected


@pytest.mark.parametrize("kwargs", [
    {"media_type": "audio", "media_id": "A1", "caption": "no captions on audio"},
    {"media_type": "sticker", "media_id": "S1", "caption": "nor on stickers"},
    {"media_type": "image", "media_id": "I1", "filename": "only documents"},
    {"media_type": "image", "media_id": "I1", "voice": True},
    {"media_type": "image", "media_id": "I1", "link": "https://x.test/a.png"},
    {"media_type": "gif", "media_id": "G1"},
    {"media_type": "image", "media_id": "I1", "caption": "x" * 1025},
])
def test_media_rejects_invalid_combinations(kwargs):
    with pytest.raises(ValueError):
        outbound.media(**kwargs)


# ---------------------------------------------------------------- template

def test_template():
    components = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]
    assert outbound.template("order_update", "pt_BR", components) == {
        "type": "template",
        "template": {"name": "order_update", "language": {"code": "pt_BR"},
                     "components": components},
    }


@pytest.mark.parametrize("components", [None, []])
def test_template_without_components(components):
    built = outbound.template("hello_world", {"code": "en_US", "policy": "deterministic"},
                              components)
    assert built["template"] == {"name": "hello_world",
                                 "language": {"code": "en_US", "policy": "deterministic"}}


def test_template_needs_a_name():
    with pytest.raises(ValueError):
        outbound.template("", "en_US")


# ---------------------------------------------------------------- interactive

def test_interactive_wraps_what_lib_interactive_builds():
    buttons = interactive_lib.reply_buttons("Ok?", ["Yes", "No"])
    menu = interactive_lib.list_message("Pick", "Menu", [("One", "")])
    assert outbound.interactive(buttons) == {"type": "interactive", "interactive": buttons}
    assert outbound.interactive(menu)["interactive"] is menu


@pytest.mark.parametrize("content", [None, {}, {"type": "carousel"}, [{"type": "button"}]])
def test_interactive_rejects_unknown_content(content):
    with pytest.raises(ValueError):
        outbound.interactive(content)


# ---------------------------------------------------------------- reaction, location

@pytest.mark.parametrize(("emoji", "sent"), [("👍", "👍"), ("", ""), (None, "")])
def test_reaction(emoji, sent):
    assert outbound.reaction("wamid.IN2", emoji) == {
        "type": "reaction", "reaction": {"message_id": "wamid.IN2", "emoji": sent}}


def test_reaction_needs_a_message():
    with pytest.raises(ValueError):
        outbound.reaction("", "👍")


def test_location():
    assert outbound.location(-23.5, -46.6, name="Shop", address="Rua A") == {
        "type": "location",
        "location": {"latitude": -23.5, "longitude": -46.6, "name": "Shop", "address": "Rua A"},
    }
    assert outbound.location(0, 0) == {"type": "location",
                                       "location": {"latitude": 0, "longitude": 0}}
