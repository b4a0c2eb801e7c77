"""Status webhooks: order, signature, pricing, failures."""

from __future__ import annotations

from .support import verify, wait_for

CUSTOMER = "34611122233"


def _send(graph, body=None, **extra):
    graph.sim.customer_sends(CUSTOMER, "hola")
    payload = body or {"type": "text", "text": {"body": "¡Hola! ¿Qué tal? 😀"}}
    payload.update(extra)
    resp = graph.send(CUSTOMER, payload)
    assert resp.status_code == 200, resp.text
    return resp.json()["messages"][0]["id"]


def test_statuses_arrive_signed_and_in_order(graph, receiver):
    wamid = _send(graph, biz_opaque_callback_data="mail.message:42")
    statuses = wait_for(lambda: len(receiver.statuses(wamid)) == 3 and receiver.statuses(wamid))
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["recipient_id"] == CUSTOMER
        assert status["biz_opaque_callback_data"] == "mail.message:42"
        assert status["timestamp"].isdigit()
        assert "conversation" not in status
    assert statuses[0]["pricing"] == {"billable": False, "pricing_model": "PMP",
                                      "type": "free_customer_service", "category": "service"}
    assert "pricing" not in statuses[2]
    assert int(statuses[0]["timestamp"]) <= int(statuses[2]["timestamp"])
    status_hits = [h for h in receiver.hits if h["json"]["entry"][0]["changes"][0]["value"]
                   .get("statuses")]
    for hit in status_hits:
        assert verify(hit)
        assert hit["headers"]["Content-Type"] == "application/json"
        change = hit["json"]["entry"][0]["changes"][0]
        assert hit["json"]["object"] == "whatsapp_business_account"
        assert change["field"] == "messages"
        assert change["value"]["metadata"]["phone_number_id"] == graph.sim.config.accounts[0]\
            .phone_number_id
    assert graph.sim.message(wamid)["status"] == "read"


def test_signature_fails_with_wrong_secret(graph, receiver):
    wamid = _send(graph)
    wait_for(lambda: receiver.statuses(wamid))
    assert not verify(receiver.hits[-1], secret="other")


def test_non_ascii_body_is_signed_raw(graph, receiver):
    graph.sim.customer_sends(CUSTOMER, "¿Está ahí? Ñandú 🚀", name="José Ñúñez")
    hit = receiver.hits[-1]
    assert "Ñandú 🚀".encode() in hit["raw"]  # not \u-escaped
    assert verify(hit)


def test_failure_rate_gives_failed_131026(make_sim, receiver):
    from .support import Graph

    sim = make_sim(failure_rate=1.0)
    graph = Graph(sim)
    wamid = _send(graph)
    statuses = wait_for(lambda: len(receiver.statuses(wamid)) == 2 and receiver.statuses(wamid))
    assert [s["status"] for s in statuses] == ["sent", "failed"]
    error = statuses[1]["errors"][0]
    assert error["code"] == 131026
    assert error["title"] and error["error_data"]["details"]
    assert sim.message(wamid)["status"] == "failed"


def test_read_probability_zero(make_sim, receiver):
    from .support import Graph

    sim = make_sim(read_probability=0.0)
    wamid = _send(Graph(sim))
    wait_for(lambda: len(receiver.statuses(wamid)) == 2)
    wait_for(lambda: sim.scheduler.pending() == 0)
    assert [s["status"] for s in receiver.statuses(wamid)] == ["sent", "delivered"]


def test_template_pricing_and_accepted_status(graph, receiver):
    graph.sim.seed_template({"name": "promo", "language": "es", "category": "MARKETING",
                             "components": [{"type": "BODY", "text": "Hola amigo!"}]})
    resp = graph.send("5215599998888", {"type": "template", "template": {
        "name": "promo", "language": {"code": "es"}}})
    assert resp.status_code == 200, resp.text
    message = resp.json()["messages"][0]
    assert message["message_status"] == "accepted"
    statuses = wait_for(lambda: receiver.statuses(message["id"]))
    assert statuses[0]["pricing"] == {"billable": True, "pricing_model": "PMP",
                                      "type": "regular", "category": "marketing"}


def test_media_type_mismatch_fails_async(graph, receiver):
    inbound = graph.sim.customer_sends(CUSTOMER, type="audio", voice=True)
    wamid = _send(graph, {"type": "image", "image": {"id": inbound["media_id"]}})
    statuses = wait_for(lambda: len(receiver.statuses(wamid)) == 2 and receiver.statuses(wamid))
    assert statuses[1]["status"] == "failed"
    assert statuses[1]["errors"][0]["code"] == 131053


def test_statuses_follow_simulated_clock(make_sim, receiver):
    from .support import Graph

    sim = make_sim(frozen_clock=True, status_latency=30)
    wamid = _send(Graph(sim))
    assert sim.scheduler.pending() == 3
    assert receiver.statuses(wamid) == []
    sim.advance_clock(30)
    wait_for(lambda: len(receiver.statuses(wamid)) == 1)
    sim.advance_clock(60)
    statuses = wait_for(lambda: len(receiver.statuses(wamid)) == 3 and receiver.statuses(wamid))
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert int(statuses[2]["timestamp"]) - int(statuses[0]["timestamp"]) == 60
