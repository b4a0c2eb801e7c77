"""Issue 8 items 4 and 6: template quality dates, fields/summary on the template list,
reply context built by the simulated customer, and location names vs. profile names."""

from __future__ import annotations

import pytest
import requests
from wacrm_simulator.errors import GraphError

from .support import PNID, WABA, error_code, wait_for

WA = "5491155550000"
START = 1767225600  # 2026-01-01T00:00:00Z


def _seed(sim, name, language="en_US", **extra):
    return sim.seed_template({"name": name, "language": language, "category": "UTILITY",
                              "components": [{"type": "BODY", "text": f"Body of {name}."}],
                              **extra})


def _templates(graph, query):
    resp = graph.get(f"{WABA}/message_templates?{query}")
    assert resp.status_code == 200, resp.text
    return resp.json()


# ---------------------------------------------------------------- item 4: templates

@pytest.fixture
def frozen(make_sim):
    return make_sim(clock_start=START, frozen_clock=True)


def test_quality_score_carries_a_date(frozen):
    from .support import Graph

    graph = Graph(frozen)
    plain = _seed(frozen, "plain")
    green = _seed(frozen, "green", quality_score={"score": "GREEN"})
    dated = _seed(frozen, "dated", quality_score={"score": "RED", "date": 1700000000})
    assert plain["quality_score"] == {"score": "UNKNOWN", "date": START}
    assert green["quality_score"] == {"score": "GREEN", "date": START}
    assert dated["quality_score"] == {"score": "RED", "date": 1700000000}
    listed = {t["name"]: t["quality_score"] for t in _templates(graph, "")["data"]}
    assert listed["green"] == {"score": "GREEN", "date": START}
    assert isinstance(listed["plain"]["date"], int)
    assert graph.get(green["id"]).json()["quality_score"] == {"score": "GREEN", "date": START}


def test_created_template_quality_date_is_the_simulated_now(frozen):
    from .support import Graph

    graph = Graph(frozen)
    frozen.advance_clock(3600)
    body = {"name": "made_later", "language": "en_US", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hello there."}]}
    created = graph.post(f"{WABA}/message_templates", body).json()
    assert graph.get(created["id"]).json()["quality_score"]["date"] == START + 3600


def test_fields_selects_fields_plus_id_and_paging_keeps_working(sim, graph):
    for i in range(5):
        _seed(sim, f"tpl_{i}")
    url = graph.url(f"{WABA}/message_templates?fields=name,status,quality_score&limit=2")
    names, pages = [], 0
    while url:
        data = graph.http.get(url, headers=graph.headers(), timeout=10).json()
        pages += 1
        for item in data["data"]:
            assert set(item) == {"id", "name", "status", "quality_score"}
        names += [t["name"] for t in data["data"]]
        assert data["paging"]["cursors"]["after"]
        url = data["paging"].get("next")
        if url:
            assert "fields=name%2Cstatus%2Cquality_score" in url
    assert pages == 3
    assert names == [f"tpl_{i}" for i in range(5)]
    only_name = _templates(graph, "fields=name")["data"][0]
    assert set(only_name) == {"id", "name"}
    nested = _templates(graph, "fields=name,quality_score{score},language")["data"][0]
    assert set(nested) == {"id", "name", "quality_score", "language"}
    assert "summary" not in _templates(graph, "fields=name")


def test_summary_counts_the_filtered_and_whole_waba(sim, graph):
    _seed(sim, "hello", "en_US")
    _seed(sim, "hello", "es")
    _seed(sim, "bye", "en_US")
    _seed(sim, "bye", "es", status="PAUSED")
    keys = "total_count,message_template_count,message_template_limit,are_translations_complete"
    data = _templates(graph, f"status=APPROVED&limit=2&summary={keys}")
    assert [t["name"] for t in data["data"]] == ["hello", "hello"]
    assert data["summary"] == {"total_count": 3, "message_template_count": 4,
                               "message_template_limit": 250,
                               "are_translations_complete": True}
    assert data["paging"]["next"]
    assert "summary=" in data["paging"]["next"]
    assert _templates(graph, "summary=true")["summary"] == {
        "total_count": 4, "message_template_count": 4, "message_template_limit": 250,
        "are_translations_complete": True}
    assert _templates(graph, "summary=total_count")["summary"] == {"total_count": 4}
    assert "summary" not in _templates(graph, "")


def test_summary_translations_incomplete_and_configured_limit(make_sim):
    from .support import Graph

    sim = make_sim(template_limit=6000)
    graph = Graph(sim)
    _seed(sim, "hello", "en_US")
    _seed(sim, "hello", "pt_BR")
    _seed(sim, "only_english", "en_US")
    summary = _templates(graph, "summary=true&fields=name")["summary"]
    assert summary["message_template_limit"] == 6000
    assert summary["are_translations_complete"] is False


# ------------------------------------------------------------- item 6: control quirks

def _open_window(sim):
    sim.customer_sends(WA, "hola", name="Ana")


def _send_list(graph):
    resp = graph.send(WA, {"type": "interactive", "interactive": {
        "type": "list", "body": {"text": "Menu"},
        "action": {"button": "Open", "sections": [
            {"title": "S", "rows": [{"id": "row-1", "title": "One"},
                                    {"id": "row-2", "title": "Two"}]}]}}})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"][0]["id"]


def _send_buttons(graph):
    resp = graph.send(WA, {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "Ok?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]}}})
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"][0]["id"]


def test_list_reply_without_context_answers_the_list_message(sim, graph, receiver):
    _open_window(sim)
    list_wamid = _send_list(graph)
    text = graph.send(WA)  # a later message: the reply still answers the list
    assert text.status_code == 200
    sim.customer_sends(WA, type="interactive", list_reply={"id": "row-2", "title": "Two"})
    message = receiver.messages()[-1]
    assert message["interactive"]["type"] == "list_reply"
    assert message["context"] == {"from": "15550001111", "id": list_wamid}


def test_button_reply_falls_back_to_the_last_outbound_message(sim, graph, receiver):
    _open_window(sim)
    _send_buttons(graph)
    last = graph.send(WA).json()["messages"][0]["id"]
    sim.customer_sends(WA, type="interactive",
                       button_reply={"id": "not-offered", "title": "Huh"})
    assert receiver.messages()[-1]["context"] == {"from": "15550001111", "id": last}


def test_button_reply_over_http_gets_context(sim, graph, receiver):
    _open_window(sim)
    buttons = _send_buttons(graph)
    graph.send(WA)
    resp = requests.post(sim.base_url + "/_sim/inbound",
                         json={"from": WA, "type": "interactive",
                               "interactive": {"type": "button_reply",
                                               "button_reply": {"id": "yes", "title": "Yes"}}},
                         timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.json()["message"]["context"] == {"from": "15550001111", "id": buttons}


def test_explicit_context_is_kept(sim, receiver):
    sim.customer_sends(WA, type="interactive", context_id="wamid.GIVEN",
                       button_reply={"id": "yes", "title": "Yes"})
    assert receiver.messages()[-1]["context"] == {"from": "15550001111", "id": "wamid.GIVEN"}


@pytest.mark.parametrize("fields", [
    {"type": "interactive", "list_reply": {"id": "row-1", "title": "One"}},
    {"type": "interactive", "button_reply": {"id": "yes", "title": "Yes"}},
    {"type": "button", "payload": "STOP", "text": "Stop"},
])
def test_reply_without_any_outbound_message_is_refused(sim, receiver, fields):
    _open_window(sim)
    before = len(receiver.messages())
    with pytest.raises(GraphError) as info:
        sim.customer_sends(WA, **fields)
    assert info.value.status == 400
    assert "context" in info.value.details
    resp = requests.post(sim.base_url + "/_sim/inbound", json={"from": WA, **fields},
                         timeout=10)
    assert resp.status_code == 400
    assert error_code(resp) == 131009
    assert "no outbound message" in resp.json()["error"]["error_data"]["details"]
    assert len(receiver.messages()) == before


def test_location_place_name_does_not_rename_the_customer(sim, receiver):
    _open_window(sim)
    sim.customer_sends(WA, type="location", latitude=-34.6, longitude=-58.38,
                       name="Café Tortoni", address="Av. de Mayo 825")
    value = receiver.payloads()[-1]["entry"][0]["changes"][0]["value"]
    assert value["messages"][0]["location"]["name"] == "Café Tortoni"
    assert value["contacts"][0]["profile"]["name"] == "Ana"
    assert sim.customer(WA)["name"] == "Ana"
    resp = requests.post(sim.base_url + "/_sim/inbound",
                         json={"from": WA, "type": "location", "name": "Obelisco",
                               "latitude": -34.6, "longitude": -58.38}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert sim.customer(WA)["name"] == "Ana"


def test_location_object_name_stays_the_place_and_name_is_the_customer(sim, receiver):
    _open_window(sim)
    sim.customer_sends(WA, type="location", name="Ana María",
                       location={"latitude": -34.6, "longitude": -58.38, "name": "Casa"})
    value = receiver.payloads()[-1]["entry"][0]["changes"][0]["value"]
    assert value["messages"][0]["location"]["name"] == "Casa"
    assert value["contacts"][0]["profile"]["name"] == "Ana María"
    sim.customer_sends(WA, type="location", name="Ana María",
                       location={"latitude": -34.6, "longitude": -58.38})
    assert "name" not in receiver.messages()[-1]["location"]
    sim.customer_sends(WA, type="location", place_name="Plaza", profile_name="Ana B.")
    assert receiver.messages()[-1]["location"]["name"] == "Plaza"
    assert sim.customer(WA)["name"] == "Ana B."


# ------------------------------------------------------------- BSUID recipients
def test_recipient_bsuid_answers_with_user_id(sim, graph):
    sim.customer_sends(WA, "hola")
    bsuid = sim.customer(WA)["bsuid"]
    resp = graph.post(f"{PNID}/messages", {"messaging_product": "whatsapp",
                                           "recipient": bsuid, "type": "text",
                                           "text": {"body": "oi"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["contacts"] == [{"input": bsuid, "user_id": bsuid}]
    assert sim.message(resp.json()["messages"][0]["id"])["wa_id"] == WA


def test_to_wins_over_recipient(sim, graph):
    sim.customer_sends(WA, "hola")
    resp = graph.post(f"{PNID}/messages", {"messaging_product": "whatsapp", "to": WA,
                                           "recipient": "BR.1", "type": "text",
                                           "text": {"body": "oi"}})
    assert resp.json()["contacts"] == [{"input": WA, "wa_id": WA}]


def test_malformed_recipient_is_refused(graph):
    resp = graph.post(f"{PNID}/messages", {"messaging_product": "whatsapp",
                                           "recipient": "not-a-bsuid", "type": "text",
                                           "text": {"body": "oi"}})
    assert resp.status_code == 400 and error_code(resp) == 131009


def test_unknown_bsuid_is_accepted_then_fails(sim, graph, receiver):
    resp = graph.post(f"{PNID}/messages", {"messaging_product": "whatsapp",
                                           "recipient": "AR.424242", "type": "text",
                                           "text": {"body": "oi"}})
    wamid = resp.json()["messages"][0]["id"]
    wait_for(lambda: receiver.statuses(wamid))
    [status] = receiver.statuses(wamid)
    assert status["status"] == "failed" and status["errors"][0]["code"] == 131026
    assert status["recipient_user_id"] == "AR.424242" and "recipient_id" not in status


def test_control_http_number_change_and_calls(sim, receiver):
    sim.customer_sends(WA, "hola", name="Ana")
    resp = requests.post(sim.base_url + "/_sim/number_change",
                         json={"customer": WA, "new_wa_id": "5491166660000"}, timeout=10)
    assert resp.status_code == 200 and resp.json()["wa_id"] == "5491166660000"
    assert sim.customer("5491166660000")["previous_wa_ids"] == [WA]
    assert sim.customer(WA) is None
    resp = requests.post(sim.base_url + "/_sim/calls",
                         json={"customer": "5491166660000", "answered": False}, timeout=10)
    assert resp.status_code == 200 and resp.json()["terminate"]["status"] == "FAILED"
    calls = receiver.fields("calls")
    assert [c["calls"][0]["event"] for c in calls] == ["connect", "terminate"]
    assert calls[0]["contacts"][0]["user_id"] == sim.customer("5491166660000")["bsuid"]
