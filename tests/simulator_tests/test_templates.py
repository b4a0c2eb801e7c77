"""Template sending rules (132xxx, 131050) and the template management endpoints."""

from __future__ import annotations

import pytest
import requests

from .support import PNID, WABA, error_code, verify, wait_for

TO = "5511987650000"

ORDER_TEMPLATE = {
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships on {{3}}."},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Stop"},
            {"type": "URL", "text": "Track", "url": "https://shop.invalid/t/{{1}}"}]},
    ],
}


def _tpl(name="order_update", lang="en_US", components=None):
    template = {"name": name, "language": {"code": lang}}
    if components is not None:
        template["components"] = components
    return {"type": "template", "template": template}


def _text(*values, named=None):
    if named:
        return [{"type": "text", "parameter_name": k, "text": v} for k, v in named.items()]
    return [{"type": "text", "text": v} for v in values]


GOOD = [
    {"type": "header", "parameters": _text("SO042")},
    {"type": "body", "parameters": _text("Ana", "SO042", "Monday")},
    {"type": "button", "sub_type": "quick_reply", "index": "0",
     "parameters": [{"type": "payload", "payload": "STOP"}]},
    {"type": "button", "sub_type": "url", "index": "1", "parameters": _text("SO042")},
]


@pytest.fixture
def seeded(sim):
    return sim.seed_template(dict(ORDER_TEMPLATE))


@pytest.mark.parametrize("lang", ["en_US", "en-US", "en_us"])
def test_template_send_ok_language_normalised(graph, seeded, lang):
    resp = graph.send(TO, _tpl(lang=lang, components=GOOD))
    assert resp.status_code == 200, resp.text
    assert resp.json()["messages"][0]["message_status"] == "accepted"


def test_template_ignores_window(graph, seeded):
    assert graph.send("4915112345678", _tpl(components=GOOD)).status_code == 200


@pytest.mark.parametrize("name,lang", [("nope", "en_US"), ("order_update", "pt_BR")])
def test_unknown_template_or_language(graph, seeded, name, lang):
    resp = graph.send(TO, _tpl(name, lang, GOOD))
    assert resp.status_code == 404 and error_code(resp) == 132001


@pytest.mark.parametrize("status,code", [("PENDING", 132001), ("REJECTED", 132001),
                                         ("PAUSED", 132015), ("DISABLED", 132016)])
def test_template_status_codes(graph, sim, status, code):
    sim.seed_template({**ORDER_TEMPLATE, "status": status})
    assert error_code(graph.send(TO, _tpl(components=GOOD))) == code


@pytest.mark.parametrize("components", [
    GOOD[1:],                                                        # header missing
    [GOOD[0], {"type": "body", "parameters": _text("Ana", "SO042")}, GOOD[3]],
    [GOOD[0], {"type": "body", "parameters": _text("a", "b", "c", "d")}, GOOD[3]],
    GOOD[:3],                                                        # url param missing
    None,
])
def test_parameter_count_mismatch(graph, seeded, components):
    resp = graph.send(TO, _tpl(components=components))
    assert resp.status_code == 400 and error_code(resp) == 132000


def test_named_parameters(graph, sim):
    sim.seed_template({"name": "welcome", "language": "es", "category": "UTILITY",
                       "parameter_format": "NAMED",
                       "components": [{"type": "BODY",
                                       "text": "Hola {{first_name}}, pedido {{order}}."}]})
    ok = [{"type": "body", "parameters": _text(named={"order": "1", "first_name": "Ana"})}]
    assert graph.send(TO, _tpl("welcome", "es", ok)).status_code == 200
    bad = [{"type": "body", "parameters": _text(named={"first_name": "Ana"})}]
    assert error_code(graph.send(TO, _tpl("welcome", "es", bad))) == 132000
    wrong = [{"type": "body", "parameters": _text(named={"name": "Ana", "order": "1"})}]
    assert error_code(graph.send(TO, _tpl("welcome", "es", wrong))) == 132000


def test_marketing_opt_out(graph, sim, receiver):
    sim.seed_template({"name": "promo", "language": "es", "category": "MARKETING",
                       "components": [{"type": "BODY", "text": "Ofertas!"}]})
    resp = requests.post(sim.base_url + "/_sim/user_preferences",
                         json={"wa_id": TO, "value": "stop"}, timeout=10)
    assert resp.status_code == 200 and resp.json()["delivery"]["status_code"] == 200
    value = receiver.fields("user_preferences")[-1]
    assert value["user_preferences"][0]["value"] == "stop"
    assert value["user_preferences"][0]["category"] == "marketing_messages"
    assert value["user_preferences"][0]["wa_id"] == TO
    assert verify(receiver.hits[-1])
    assert error_code(graph.send(TO, _tpl("promo", "es"))) == 131050
    sim.seed_template(dict(ORDER_TEMPLATE))
    assert graph.send(TO, _tpl(components=GOOD)).status_code == 200  # utility still fine
    sim.user_preference(TO, "resume")
    assert graph.send(TO, _tpl("promo", "es")).status_code == 200


# ----------------------------------------------------------------- management API

def test_list_templates_paging(graph, sim):
    for i in range(7):
        sim.seed_template({"name": f"tpl_{i}", "language": "en", "category": "UTILITY",
                           "components": [{"type": "BODY", "text": f"Body {i}"}]})
    sim.seed_template({"name": "paused_one", "language": "en", "status": "PAUSED",
                       "components": [{"type": "BODY", "text": "x"}]})
    names, url, pages = [], graph.url(f"{WABA}/message_templates?limit=3"), 0
    while url:
        resp = graph.http.get(url, headers=graph.headers(), timeout=10)
        assert resp.status_code == 200
        data = resp.json()
        pages += 1
        for item in data["data"]:
            assert {"id", "name", "language", "status", "category", "components",
                    "quality_score", "parameter_format"} <= set(item)
        names += [t["name"] for t in data["data"]]
        assert data["paging"]["cursors"]["after"]
        url = data["paging"].get("next")
        if url:
            assert url.startswith(sim.base_url + "/v25.0/")
    assert pages == 3
    assert names == [f"tpl_{i}" for i in range(7)] + ["paused_one"]
    resp = graph.get(f"{WABA}/message_templates?status=PAUSED")
    assert [t["name"] for t in resp.json()["data"]] == ["paused_one"]
    assert "next" not in resp.json()["paging"]


def test_list_templates_auth(graph):
    assert error_code(graph.get(f"{WABA}/message_templates", token="bad")) == 190
    resp = graph.get("424242/message_templates")
    assert resp.status_code == 400 and error_code(resp) == 100


def _create(graph, **overrides):
    body = {"name": "new_tpl", "language": "pt_BR", "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Olá {{1}}, tudo bem?",
                            "example": {"body_text": [["Ana"]]}}]}
    body.update(overrides)
    return graph.post(f"{WABA}/message_templates", body)


def test_create_then_approved_webhook(graph, sim, receiver):
    resp = _create(graph)
    assert resp.status_code == 200, resp.text
    created = resp.json()
    assert created["status"] == "PENDING" and created["category"] == "MARKETING"
    value = wait_for(lambda: receiver.fields("message_template_status_update"))[-1]
    assert value["event"] == "APPROVED"
    assert str(value["message_template_id"]) == created["id"]
    assert value["message_template_name"] == "new_tpl"
    assert value["message_template_language"] == "pt_BR"
    hit = [h for h in receiver.hits if "message_template_status_update" in h["raw"].decode()][0]
    assert hit["json"]["entry"][0]["id"] == WABA
    assert verify(hit)
    listed = graph.get(f"{WABA}/message_templates?name=new_tpl").json()["data"]
    assert listed[0]["status"] == "APPROVED"
    sim.customer_sends(TO, "oi")
    send = graph.send(TO, _tpl("new_tpl", "pt-BR", [{"type": "body",
                                                     "parameters": _text("Ana")}]))
    assert send.status_code == 200, send.text


def test_create_rejected_by_name_convention(graph, receiver):
    assert _create(graph, name="sim_reject_me").status_code == 200
    value = wait_for(lambda: receiver.fields("message_template_status_update"))[-1]
    assert value["event"] == "REJECTED"


@pytest.mark.parametrize("overrides", [
    {"name": "Bad Name"},
    {"category": "PROMO"},
    {"components": []},
    {"components": [{"type": "BODY", "text": "a"}, {"type": "BODY", "text": "b"}]},
    {"components": [{"type": "BODY", "text": "x" * 1025}]},
    {"components": [{"type": "BODY", "text": "Hi {{1}} there"}]},  # no example
    {"components": [{"type": "BODY", "text": "{{1}} leading", "example": {"body_text": [["a"]]}}]},
    {"components": [{"type": "BODY", "text": "Hi"},
                    {"type": "HEADER", "format": "TEXT", "text": "h" * 61}]},
    {"components": [{"type": "BODY", "text": "Hi"}, {"type": "FOOTER", "text": "f" * 61}]},
    {"components": [{"type": "BODY", "text": "Hi"}, {"type": "BUTTONS", "buttons": [
        {"type": "URL", "text": f"u{i}", "url": "https://x.invalid"} for i in range(3)]}]},
    {"components": [{"type": "BODY", "text": "Hi"}, {"type": "BUTTONS", "buttons": [
        {"type": "PHONE_NUMBER", "text": f"p{i}", "phone_number": "+1555"} for i in range(2)]}]},
    {"components": [{"type": "BODY", "text": "Hi"}, {"type": "BUTTONS", "buttons": [
        {"type": "QUICK_REPLY", "text": f"q{i}"} for i in range(11)]}]},
    {"parameter_format": "named",
     "components": [{"type": "BODY", "text": "Hi {{1}} x", "example": {"body_text": [["a"]]}}]},
])
def test_create_validation(graph, overrides):
    resp = _create(graph, **overrides)
    assert resp.status_code == 400, resp.text
    assert error_code(resp) == 100


def test_create_duplicate_name_language(graph):
    assert _create(graph).status_code == 200
    resp = _create(graph, language="pt-BR")
    assert resp.status_code == 400 and resp.json()["error"]["error_subcode"] == 2388024
    assert _create(graph, language="es").status_code == 200


def test_create_named_with_examples(graph):
    resp = _create(graph, parameter_format="named", components=[
        {"type": "HEADER", "format": "TEXT", "text": "Hola {{nombre}}",
         "example": {"header_text_named_params": [{"param_name": "nombre",
                                                   "example": "Ana"}]}},
        {"type": "BODY", "text": "Tu pedido {{pedido}} está listo.",
         "example": {"body_text_named_params": [{"param_name": "pedido",
                                                 "example": "SO1"}]}}])
    assert resp.status_code == 200, resp.text


def test_template_status_control_sends_webhook(graph, sim, seeded, receiver):
    resp = requests.post(sim.base_url + "/_sim/template_status",
                         json={"id": seeded["id"], "status": "PAUSED"}, timeout=10)
    assert resp.status_code == 200
    value = wait_for(lambda: receiver.fields("message_template_status_update"))[-1]
    assert value["event"] == "PAUSED"
    assert error_code(graph.send(TO, _tpl(components=GOOD))) == 132015


def test_delete_template(graph, seeded):
    resp = graph.delete(f"{WABA}/message_templates?name=order_update")
    assert resp.json() == {"success": True}
    assert error_code(graph.send(TO, _tpl(components=GOOD))) == 132001


def test_phone_number_and_waba_objects(graph):
    phone = graph.get(PNID).json()
    assert phone["id"] == PNID and phone["display_phone_number"] == "15550001111"
    assert graph.get(WABA).json()["id"] == WABA
    assert graph.get(f"{WABA}/phone_numbers").json()["data"][0]["id"] == PNID
    assert error_code(graph.get(PNID, token=None)) == 190
