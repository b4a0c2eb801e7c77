"""POST /{phone_number_id}/messages validation and policy codes."""

from __future__ import annotations

import pytest
from wacrm_simulator import Account

from .support import PNID, SECRET, TOKEN, WABA, Graph, error_code, wait_for

CUSTOMER = "5491122334455"


@pytest.fixture
def open_window(sim):
    sim.customer_sends(CUSTOMER, "hola", name="Cliente")
    return CUSTOMER


def test_success_returns_wamid_and_contacts(graph, open_window):
    resp = graph.send("+" + CUSTOMER)
    assert resp.status_code == 200
    data = resp.json()
    assert data["messaging_product"] == "whatsapp"
    assert data["contacts"] == [{"input": "+" + CUSTOMER, "wa_id": CUSTOMER}]
    assert data["messages"][0]["id"].startswith("wamid.")
    assert "message_status" not in data["messages"][0]
    recorded = graph.sim.requests("/messages")
    assert recorded[-1]["wamid"] == data["messages"][0]["id"]
    assert "Authorization" not in recorded[-1]["headers"]
    assert recorded[-1]["json"]["text"]["body"] == "hello"


def test_wamids_are_unique(graph, open_window):
    ids = {graph.send(CUSTOMER).json()["messages"][0]["id"] for _ in range(10)}
    assert len(ids) == 10


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_auth_missing_or_wrong_token(graph, open_window, token):
    resp = graph.send(CUSTOMER, token=token)
    assert resp.status_code == 401
    err = resp.json()["error"]
    assert err["code"] == 190 and err["type"] == "OAuthException"
    assert err["fbtrace_id"]
    assert graph.sim.rejected()[-1]["code"] == 190


def test_token_of_other_account_is_rejected(make_sim, receiver):
    accounts = [
        Account(waba_id=WABA, phone_number_id=PNID, access_token=TOKEN, app_secret=SECRET,
                webhook_url=receiver.url),
        Account(waba_id="777", phone_number_id="888", access_token="other-token",
                app_secret="s2", webhook_url=receiver.url),
    ]
    sim = make_sim(accounts=accounts)
    sim.customer_sends(CUSTOMER, "hi")
    resp = Graph(sim, token="other-token").send(CUSTOMER)
    assert resp.status_code == 401 and error_code(resp) == 190


def test_unknown_phone_number_id_is_400_graph_method_exception(graph):
    resp = graph.post("123456/messages", {"messaging_product": "whatsapp"})
    assert resp.status_code == 400 and error_code(resp) == 100
    assert resp.json()["error"]["type"] == "GraphMethodException"


@pytest.mark.parametrize("to", ["abc", "+12", "1234567890123456", "+55 11 98765-4321", ""])
def test_invalid_to(graph, to):
    resp = graph.send(to)
    assert resp.status_code == 400 and error_code(resp) == 131009


@pytest.mark.parametrize("body,code", [
    ({"type": "carousel", "carousel": {}}, 131009),
    ({"type": "text"}, 131008),
    ({"type": "text", "text": {"body": ""}}, 131009),
    ({"type": "text", "text": {"body": "x" * 4097}}, 131009),
    ({"type": "audio", "audio": {"link": "https://x.invalid/a.ogg", "caption": "no"}}, 131009),
    ({"type": "sticker", "sticker": {"id": "1", "caption": "no"}}, 131009),
    ({"type": "image", "image": {"id": "does-not-exist"}}, 131009),
    ({"type": "image", "image": {}}, 131008),
    ({"type": "reaction", "reaction": {"emoji": "👍"}}, 131008),
    ({"type": "location", "location": {"latitude": 100, "longitude": 0}}, 131009),
    ({"type": "contacts", "contacts": []}, 131009),
    ({"type": "text", "text": {"body": "x"}, "biz_opaque_callback_data": "y" * 513}, 131009),
])
def test_payload_validation(graph, open_window, body, code):
    resp = graph.send(CUSTOMER, body)
    assert resp.status_code == 400, resp.text
    assert error_code(resp) == code
    assert resp.json()["error"]["error_data"]["messaging_product"] == "whatsapp"


def test_messaging_product_required(graph):
    resp = graph.post(f"{PNID}/messages", {"to": CUSTOMER, "type": "text",
                                           "text": {"body": "x"}})
    assert error_code(resp) == 131008
    resp = graph.post(f"{PNID}/messages", {"messaging_product": "sms", "to": CUSTOMER})
    assert error_code(resp) == 131009


def _buttons(n, title="Yes"):
    return [{"type": "reply", "reply": {"id": f"b{i}", "title": f"{title}{i}"}}
            for i in range(n)]


def _list(rows_per_section, title="Row"):
    return [{"title": f"S{s}", "rows": [{"id": f"{s}-{r}", "title": f"{title}{r}"}
                                        for r in range(n)]}
            for s, n in enumerate(rows_per_section)]


@pytest.mark.parametrize("interactive,ok", [
    ({"type": "button", "body": {"text": "Pick"}, "action": {"buttons": _buttons(3)}}, True),
    ({"type": "button", "body": {"text": "Pick"}, "action": {"buttons": _buttons(4)}}, False),
    ({"type": "button", "body": {"text": "Pick"},
      "action": {"buttons": _buttons(1, "x" * 20)}}, False),
    ({"type": "button", "body": {"text": "x" * 1025},
      "action": {"buttons": _buttons(1)}}, False),
    ({"type": "list", "body": {"text": "Menu"},
      "action": {"button": "Open", "sections": _list([5, 5])}}, True),
    ({"type": "list", "body": {"text": "Menu"},
      "action": {"button": "Open", "sections": _list([6, 5])}}, False),
    ({"type": "list", "body": {"text": "Menu"},
      "action": {"button": "Open", "sections": _list([2], "r" * 24)}}, False),
    ({"type": "cta_url", "body": {"text": "See"},
      "action": {"name": "cta_url",
                 "parameters": {"display_text": "Open", "url": "https://x.invalid"}}}, True),
])
def test_interactive_limits(graph, open_window, interactive, ok):
    resp = graph.send(CUSTOMER, {"type": "interactive", "interactive": interactive})
    if ok:
        assert resp.status_code == 200, resp.text
    else:
        assert resp.status_code == 400 and error_code(resp) == 131009


@pytest.mark.parametrize("body", [
    {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
    {"type": "location", "location": {"latitude": -23.5, "longitude": -46.6, "name": "SP"}},
    {"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana"},
                                       "phones": [{"phone": "+5511999999999"}]}]},
    {"type": "image", "image": {"link": "https://x.invalid/a.jpg", "caption": "c"}},
    {"type": "document", "document": {"link": "https://x.invalid/a.pdf",
                                      "filename": "a.pdf"}},
    {"type": "text", "text": {"body": "olá 😀"}, "context": {"message_id": "wamid.Q"}},
])
def test_other_types_accepted(graph, open_window, body):
    resp = graph.send(CUSTOMER, body)
    assert resp.status_code == 200, resp.text


def test_window_never_wrote(graph, receiver):
    """Meta accepts a free-form send outside the window, then fails it asynchronously:
    one failed status with 131047 and no sent."""
    resp = graph.send("5511911112222")
    assert resp.status_code == 200
    wamid = resp.json()["messages"][0]["id"]
    wait_for(lambda: receiver.statuses(wamid))
    [status] = receiver.statuses(wamid)
    assert status["status"] == "failed" and status["recipient_id"] == "5511911112222"
    assert status["errors"][0]["code"] == 131047
    assert status["errors"][0]["title"] == "Re-engagement message"
    assert "24 hours" in status["errors"][0]["error_data"]["details"]
    failed_payload = [p for p in receiver.payloads()
                      if p["entry"][0]["changes"][0]["value"].get("statuses")][-1]
    assert "contacts" not in failed_payload["entry"][0]["changes"][0]["value"]


def test_window_errors_sync_is_the_explicit_old_behaviour(make_sim):
    graph = Graph(make_sim(window_errors="sync"))
    resp = graph.send("5511911112222")
    assert resp.status_code == 400 and error_code(resp) == 131047


def test_clock_advance_closes_window(graph, open_window):
    assert graph.send(CUSTOMER).status_code == 200
    graph.sim.advance_clock(23 * 3600)
    assert graph.send(CUSTOMER).status_code == 200
    graph.sim.advance_clock(2 * 3600)
    assert _final_status(graph, graph.send(CUSTOMER)) == "failed"
    graph.sim.customer_sends(CUSTOMER, "back again")
    assert _final_status(graph, graph.send(CUSTOMER)) == "read"


def _final_status(graph, resp) -> str:
    wamid = resp.json()["messages"][0]["id"]
    wait_for(lambda: graph.sim.message(wamid)["status"] in ("failed", "read"))
    return graph.sim.message(wamid)["status"]


def test_clock_advance_over_http(graph, open_window):
    resp = graph.http.post(graph.sim.base_url + "/_sim/clock", json={"advance": 86401})
    assert resp.status_code == 200 and resp.json()["now"] > 0
    assert _final_status(graph, graph.send(CUSTOMER)) == "failed"


def test_brazil_ninth_digit_quirk(graph, sim):
    sim.register_customer("551187654321", "João", phone=None)
    sim.customer_sends("551187654321", "oi")
    resp = graph.send("+5511987654321")
    assert resp.status_code == 200
    assert resp.json()["contacts"][0] == {"input": "+5511987654321", "wa_id": "551187654321"}


def test_mexico_521_variant(graph, sim):
    sim.customer_sends("5215512345678", "hola")
    resp = graph.send("+525512345678")
    assert resp.json()["contacts"][0]["wa_id"] == "5215512345678"


def test_mark_as_read(graph, sim):
    inbound = sim.customer_sends(CUSTOMER, "hi")
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": inbound["wamid"],
            "typing_indicator": {"type": "text"}}
    resp = graph.post(f"{PNID}/messages", body)
    assert resp.status_code == 200 and resp.json() == {"success": True}
    assert sim.message(inbound["wamid"])["read"] is True
    body["message_id"] = "wamid.unknown"
    resp = graph.post(f"{PNID}/messages", body)
    assert resp.status_code == 400 and error_code(resp) == 131009


def test_throughput_limit(make_sim):
    sim = make_sim(frozen_clock=True, status_latency=1000)
    sim.config.accounts[0].mps = 3
    graph = Graph(sim)
    for n in range(4):
        sim.customer_sends(f"3461200000{n}", "hi")
    for n in range(3):
        assert graph.send(f"3461200000{n}").status_code == 200
    resp = graph.send("34612000003")
    assert resp.status_code == 429 and error_code(resp) == 130429
    sim.advance_clock(1.01)
    assert graph.send("34612000003").status_code == 200


def test_pair_rate_limit(make_sim):
    sim = make_sim(frozen_clock=True, status_latency=1000, pair_rate_burst=3,
                   pair_rate_per_seconds=6)
    graph = Graph(sim)
    sim.customer_sends(CUSTOMER, "hi")
    for _ in range(3):
        sim.advance_clock(1.1)  # stay under the mps window
        assert graph.send(CUSTOMER).status_code == 200
    resp = graph.send(CUSTOMER)
    assert resp.status_code == 429 and error_code(resp) == 131056
    assert graph.send("34600000001").status_code == 200  # other user: not pair-limited
    sim.advance_clock(6)
    assert graph.send(CUSTOMER).status_code == 200
