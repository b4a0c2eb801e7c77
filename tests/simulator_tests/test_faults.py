"""Graph faults, webhook faults and webhook retries."""

from __future__ import annotations

import pytest
import requests
from wacrm_simulator import SimulatorConfig

from .support import error_code, verify, wait_for

WA = "5491155554444"


@pytest.fixture
def ready(sim, graph):
    sim.customer_sends(WA, "hola")
    return graph


def _fault(sim, **body):
    resp = requests.post(sim.base_url + "/_sim/faults", json=body, timeout=10)
    assert resp.status_code == 200, resp.text


def test_http_500(ready, sim):
    _fault(sim, kind="http_500", count=2, path="/messages$")
    assert ready.send(WA).status_code == 500
    assert ready.send(WA).status_code == 500
    assert ready.send(WA).status_code == 200
    assert [r["status"] for r in sim.rejected("/messages")] == [500, 500]
    assert len(sim.requests("/messages")) == 1


def test_fault_path_filter(ready, sim):
    _fault(sim, kind="http_500", path="/message_templates")
    assert ready.send(WA).status_code == 200
    assert ready.get(f"{sim.config.accounts[0].waba_id}/message_templates").status_code == 500


def test_graph_error(ready, sim):
    sim.inject_fault("graph_error", code=131056)
    resp = ready.send(WA)
    assert resp.status_code == 429 and error_code(resp) == 131056
    sim.inject_fault("graph_error", code=131000)
    assert error_code(ready.send(WA)) == 131000


def test_timeout_fault(ready, sim, receiver):
    sim.inject_fault("timeout", delay=0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        ready.send(WA, timeout=0.2)
    accepted = wait_for(lambda: sim.requests("/messages"))
    wamid = accepted[0]["wamid"]
    assert wamid
    wait_for(lambda: len(receiver.statuses(wamid)) == 3)


def test_drop_response(ready, sim, receiver):
    sim.inject_fault("drop_response")
    with pytest.raises(requests.exceptions.ConnectionError):
        ready.send(WA)
    accepted = sim.requests("/messages")
    assert len(accepted) == 1 and accepted[0]["wamid"]
    statuses = wait_for(lambda: len(receiver.statuses(accepted[0]["wamid"])) == 3
                        and receiver.statuses(accepted[0]["wamid"]))
    assert statuses[0]["status"] == "sent"
    assert ready.send(WA).status_code == 200  # fault consumed


def test_unknown_fault_kind(sim):
    resp = requests.post(sim.base_url + "/_sim/faults", json={"kind": "explode"}, timeout=10)
    assert resp.status_code == 400


def test_duplicate_webhooks(sim, receiver):
    requests.post(sim.base_url + "/_sim/webhook_faults", json={"duplicate": 1}, timeout=10)
    result = sim.customer_sends(WA, "dup")
    wait_for(lambda: len(receiver.hits) == 2)
    assert receiver.hits[0]["raw"] == receiver.hits[1]["raw"]
    assert [m["id"] for m in receiver.messages()] == [result["wamid"]] * 2
    sim.customer_sends(WA, "single")
    assert len(receiver.hits) == 3
    records = sim.webhooks("inbound")
    assert [r["duplicate"] for r in records] == [False, True, False]


def test_reorder_statuses(ready, sim, receiver):
    sim.webhook_faults(reorder=True)
    wamid = ready.send(WA).json()["messages"][0]["id"]
    statuses = wait_for(lambda: len(receiver.statuses(wamid)) == 3 and receiver.statuses(wamid))
    assert [s["status"] for s in statuses] == ["read", "delivered", "sent"]


def test_batch_statuses(make_sim, receiver):
    from .support import Graph

    sim = make_sim(frozen_clock=True, status_latency=1)
    sim.customer_sends(WA, "hola")
    graph = Graph(sim)
    sim.webhook_faults(batch=True, batch_window=10)
    ids = [graph.send(WA).json()["messages"][0]["id"] for _ in range(2)]
    sim.advance_clock(5)
    wait_for(lambda: sim.scheduler.pending() == 1)  # only the flush is left
    assert receiver.statuses() == []
    sim.advance_clock(10)
    wait_for(lambda: len(receiver.statuses()) == 6)
    status_payloads = [p for p in receiver.payloads()
                       if p["entry"][0]["changes"][0]["value"].get("statuses")]
    assert len(status_payloads) == 1
    assert {s["id"] for s in receiver.statuses()} == set(ids)
    assert verify(receiver.hits[-1])


def test_webhook_retried_on_non_200(sim, receiver):
    receiver.script = [500, 204, 503]
    result = sim.customer_sends(WA, "retry me")
    assert result["delivery"] == {"status_code": 200, "attempts": 4}
    assert [h["answered"] for h in receiver.hits] == [500, 204, 503, 200]
    assert len({h["raw"] for h in receiver.hits}) == 1
    record = sim.webhooks("inbound")[-1]
    assert record["attempts"] == 4 and len(record["attempt_log"]) == 4
    assert record["latency_ms"] is not None


def test_webhook_retries_are_bounded(make_sim, receiver):
    sim = make_sim(webhook_retries=2)
    receiver.script = [500] * 10
    result = sim.customer_sends(WA, "x")
    assert result["delivery"] == {"status_code": 500, "attempts": 3}


def test_webhook_connection_error_recorded(make_sim):
    from wacrm_simulator import Account

    sim = make_sim(accounts=[Account(webhook_url="http://127.0.0.1:9/none")],
                   webhook_retries=1)
    result = sim.customer_sends(WA, "x")
    assert result["delivery"] == {"status_code": None, "attempts": 2}
    assert "ConnectionError" in sim.webhooks()[-1]["error"]


@pytest.mark.parametrize("signature", ["bad", "missing", None])
def test_custom_webhook_signatures(sim, receiver, signature):
    payload = {"object": "whatsapp_business_account", "entry": [
        {"id": "1", "changes": [{"field": "account_update",
                                 "value": {"event": "ACCOUNT_VIOLATION"}}]}]}
    resp = requests.post(sim.base_url + "/_sim/webhook",
                         json={"payload": payload, "signature": signature}, timeout=10)
    assert resp.json()["status_code"] == 200
    hit = receiver.hits[-1]
    assert hit["json"] == payload
    if signature == "missing":
        assert "X-Hub-Signature-256" not in hit["headers"]
    else:
        assert verify(hit) is (signature is None)


def test_retry_policy_grows_is_capped_and_stops_at_the_horizon():
    from wacrm_simulator.webhooks import RetryPolicy

    policy = RetryPolicy(backoff=1, factor=2, backoff_max=60, horizon=3600)
    assert [policy.delay(n, 0) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.delay(3, 3600 - 4) == 4 and policy.delay(3, 3600 - 3) is None
    assert RetryPolicy(retries=2).delay(2, 0) == 2 and RetryPolicy(retries=2).delay(3, 0) is None
    # Meta's default: days, not seconds (a server restart is long outlived).
    assert SimulatorConfig().webhook_retry_horizon == 7 * 24 * 3600


def test_webhook_delivery_outlives_an_outage(make_sim, receiver):
    """Attempts go on from timers while the endpoint is down, and reach it once it is
    back (the URL is read at each attempt, as Meta reads the app's current one)."""
    sim = make_sim(webhook_backoff=0.02, webhook_backoff_max=0.1)
    account = sim.config.accounts[0]
    account.webhook_url = "http://127.0.0.1:9/down"
    result = sim.customer_sends(WA, "while down", wait=False)
    wait_for(lambda: sim.webhooks("inbound")[-1]["attempts"] >= 3)
    assert sim.sender.pending_retries() == 1 and receiver.hits == []
    account.webhook_url = receiver.url
    wait_for(lambda: receiver.messages())
    assert receiver.messages()[-1]["id"] == result["wamid"]
    record = sim.webhooks("inbound")[-1]
    assert record["status_code"] == 200 and record["attempts"] >= 4
    assert [a["status_code"] for a in record["attempt_log"]][-1] == 200
    assert all(a["status_code"] is None for a in record["attempt_log"][:-1])
    assert sim.sender.pending_retries() == 0


def test_stop_cancels_pending_retries(make_sim):
    from wacrm_simulator import Account

    sim = make_sim(accounts=[Account(webhook_url="http://127.0.0.1:9/none")],
                   webhook_backoff=30)
    sim.customer_sends(WA, "x", wait=False)
    wait_for(lambda: sim.sender.pending_retries() == 1)
    sim.stop()
    assert sim.sender.pending_retries() == 0
