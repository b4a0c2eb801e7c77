"""Meta's template rules, send-time components and previews (lib/templates.py)."""

import pytest

from lib import template_authoring, templates


def body(text, *examples, named=None):
    component = {"type": "BODY", "text": text}
    if examples:
        component["example"] = {"body_text": [list(examples)]}
    if named:
        component["example"] = {"body_text_named_params": [
            {"param_name": k, "example": v} for k, v in named.items()]}
    return component


GOOD = [
    {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["42"]}},
    body("Hello {{1}}, your order {{2}} has shipped today.", "Ana", "SO042"),
    {"type": "FOOTER", "text": "Reply STOP to opt out"},
    {"type": "BUTTONS", "buttons": [
        {"type": "QUICK_REPLY", "text": "Thanks"},
        {"type": "QUICK_REPLY", "text": "Stop"},
        {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}",
         "example": ["https://shop.example/t/SO042"]},
        {"type": "COPY_CODE", "example": "SAVE10"},
    ]},
]


def problems(components, name="order_shipped", category="UTILITY"):
    return templates.validate_template(name, "en_US", category, components)


def test_valid_template_has_no_problems():
    assert problems(GOOD) == []


def test_name_category_and_body_are_checked():
    found = templates.validate_template("Order Shipped", "", "PROMO", [])
    assert any(p.startswith("Name:") for p in found)
    assert any(p.startswith("Language:") for p in found)
    assert any(p.startswith("Category:") for p in found)
    assert "Body: a template needs exactly one body." in found
    two_bodies = problems([body("One text here."), body("Another text here.")])
    assert "Body: a template needs exactly one body." in two_bodies


def test_lengths():
    found = problems([
        {"type": "HEADER", "format": "TEXT", "text": "x" * 61},
        body("y" * 1025),
        {"type": "FOOTER", "text": "z" * 61},
    ])
    assert "Header: the text has 61 characters, at most 60 allowed." in found
    assert "Body: the text has 1025 characters, at most 1024 allowed." in found
    assert "Footer: the text has 61 characters, at most 60 allowed." in found


def test_parameters_must_not_lead_or_trail_and_need_examples():
    assert "Body: a parameter cannot start or end the text." in problems(
        [body("{{1}} is your code for the shop today", "1234")])
    assert "Body: a parameter cannot start or end the text." in problems(
        [body("Your code for the shop today is {{1}}", "1234")])
    found = problems([body("Hello {{1}}, your order {{2}} is ready for you.", "Ana")])
    assert "Body: every parameter needs an example; missing for 2." in found


def test_positional_parameters_are_contiguous_and_density_is_limited():
    found = problems([body("Hello {{1}} and {{3}} are here for you now.", "a", "b")])
    assert "Body: positional parameters must be {{1}} to {{2}} without gaps." in found
    dense = problems([body("Hi {{1}} {{2}} {{3}} ok", "a", "b", "c")])
    assert any("too many parameters" in p for p in dense)


def test_named_parameters():
    good = [body("Hello {{first_name}}, welcome to our shop.", named={"first_name": "Ana"})]
    assert problems(good) == []
    assert templates.parameter_format(good) == "named"
    bad = problems([body("Hello {{First}}, welcome to our shop.", named={"First": "Ana"})])
    assert any("named parameters must be lowercase" in p for p in bad)


def test_header_rules():
    found = problems([{"type": "HEADER", "format": "TEXT", "text": "{{1}} {{2}}",
                       "example": {"header_text": ["a", "b"]}}, body("Plain body text.")])
    assert "Header: at most 1 parameter(s) allowed, found 2." in found
    location = [{"type": "HEADER", "format": "LOCATION"}, body("Your code is ready.")]
    assert problems(location) == []
    assert "Header: a location header is not allowed in authentication templates." in \
        problems(location, category="AUTHENTICATION")
    assert problems([{"type": "HEADER", "format": "GIF"}, body("Text.")])


def test_button_rules():
    def with_buttons(*buttons):
        return problems([body("Plain body text."), {"type": "BUTTONS", "buttons": list(buttons)}])

    qr = {"type": "QUICK_REPLY", "text": "Yes"}
    url = {"type": "URL", "text": "Open", "url": "https://a.example/"}
    assert "Buttons: at most 10 buttons allowed, found 11." in with_buttons(*[qr] * 11)
    assert "Buttons: quick reply buttons must be grouped together." in with_buttons(qr, url, qr)
    assert "Buttons: at most 2 URL button(s) allowed." in with_buttons(url, url, url)
    assert "Button 1: the label has 26 characters, at most 25 allowed." in with_buttons(
        {"type": "QUICK_REPLY", "text": "x" * 26})
    assert "Button 1: the URL can only have one variable, at its end." in with_buttons(
        {"type": "URL", "text": "Go", "url": "https://a.example/{{1}}/x"})
    assert "Button 1: the URL variable needs an example." in with_buttons(
        {"type": "URL", "text": "Go", "url": "https://a.example/{{1}}"})
    assert "Button 1: the URL has 2001 characters, at most 2000 allowed." in with_buttons(
        {"type": "URL", "text": "Go", "url": "https://" + "a" * 1993})
    phone = {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550001111"}
    assert "Buttons: at most 1 PHONE_NUMBER button(s) allowed." in with_buttons(phone, phone)
    assert "Button 1: the coupon code has 16 characters, at most 15 allowed." in with_buttons(
        {"type": "COPY_CODE", "example": "X" * 16})


def test_problems_carry_their_message_for_translation():
    problem = problems([body("y" * 1025)])[0]
    assert problem.message == (
        "%(where)s: the text has %(count)s characters, at most %(limit)s allowed.")
    assert problem.params["count"] == 1025
    assert problem.params["where"].message == "Body"


def test_placeholders_keep_first_appearance_order():
    assert templates.placeholders("{{2}} a {{1}} b {{2}} {{ name }}") == ["2", "1", "name"]


def test_build_send_components_positional():
    values = {"header:1": "42", "1": "Ana", "2": "SO042",
              "button:2": "SO 42/x", "button:3": "SAVE10"}
    sent = templates.build_send_components(GOOD, values)
    assert sent == [
        {"type": "header", "parameters": [{"type": "text", "text": "42"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                        {"type": "text", "text": "SO042"}]},
        {"type": "button", "sub_type": "url", "index": "2",
         "parameters": [{"type": "text", "text": "SO%2042%2Fx"}]},
        {"type": "button", "sub_type": "copy_code", "index": "3",
         "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}]},
    ]
    with pytest.raises(ValueError):
        templates.build_send_components(GOOD, {**values, "2": ""})
    with pytest.raises(ValueError):  # the body's {{1}} is not the header's {{1}}
        templates.build_send_components(GOOD, {k: v for k, v in values.items() if k != "header:1"})


def test_build_send_components_named_and_media():
    components = [{"type": "HEADER", "format": "DOCUMENT"},
                  body("Hello {{first_name}}, here is {{doc}} for you.")]
    sent = templates.build_send_components(
        components, {"first_name": "Ana", "doc": "SO042"},
        header_media={"id": "m1", "filename": "SO042.pdf"})
    assert sent[0] == {"type": "header", "parameters": [
        {"type": "document", "document": {"id": "m1", "filename": "SO042.pdf"}}]}
    assert sent[1]["parameters"][0] == {"type": "text", "parameter_name": "first_name",
                                        "text": "Ana"}
    with pytest.raises(ValueError):
        templates.build_send_components(components, {"first_name": "Ana", "doc": "x"})
    location = [{"type": "HEADER", "format": "LOCATION"}, body("See you here.")]
    sent = templates.build_send_components(
        location, {}, header_media={"latitude": 1.5, "longitude": 2.5, "name": "Shop"})
    assert sent == [{"type": "header", "parameters": [{"type": "location", "location": {
        "latitude": 1.5, "longitude": 2.5, "name": "Shop"}}]}]
    assert templates.build_send_components(
        [{"type": "HEADER", "format": "IMAGE"}, body("Hi there.")], {},
        header_media={"link": "https://a.example/p.png"})[0]["parameters"][0] == {
        "type": "image", "image": {"link": "https://a.example/p.png"}}


def test_render_preview_keeps_formatting_and_unknown_placeholders():
    preview = templates.render_preview(
        [{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
         body("Hello *{{1}}*, _your_ order {{2}} is ready."),
         {"type": "FOOTER", "text": "Acme"}],
        {"header:1": "42", "1": "Ana"})
    assert preview == "Order 42\nHello *Ana*, _your_ order {{2}} is ready.\nAcme"


def test_compose_and_split_round_trip():
    components = template_authoring.compose_components(
        header_type="text", header_text="Order {{1}}",
        body="Hello {{1}}, your order {{2}} has shipped today.", footer="Reply STOP to opt out",
        buttons=[{"type": "quick_reply", "text": "Thanks"},
                 {"type": "url", "text": "Track", "url": "https://shop.example/t/{{1}}",
                  "example": "https://shop.example/t/SO042"}],
        examples={"header:1": "42", "1": "Ana", "2": "SO042"})
    assert problems(components) == []
    split = template_authoring.split_components(components)
    assert split["header_type"] == "text"
    assert split["examples"] == {"header:1": "42", "1": "Ana", "2": "SO042"}
    assert [b["type"] for b in split["buttons"]] == ["quick_reply", "url"]


def test_normalize_language():
    assert template_authoring.normalize_language("en-US") == "en_US"
    assert template_authoring.normalize_language("pt_br") == "pt_BR"
    assert template_authoring.normalize_language("es") == "es"
