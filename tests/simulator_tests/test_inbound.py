"""Every inbound message type produces a Meta-shaped, signed webhook."""

from __future__ import annotations

import pytest
import requests

from .support import PNID, WABA, verify

WA = "5215512345678"

CASES = {
    "text": ({"text": "¡Hola! ¿Tienen envío a Querétaro? 🚚"},
             lambda m: m["text"] == {"body": "¡Hola! ¿Tienen envío a Querétaro? 🚚"}),
    "image": ({"caption": "foto"},
              lambda m: m["image"]["caption"] == "foto" and m["image"]["id"]
              and m["image"]["mime_type"] == "image/jpeg" and m["image"]["sha256"]),
    "video": ({"caption": "vid"}, lambda m: m["video"]["mime_type"] == "video/mp4"),
    "audio": ({"voice": True}, lambda m: m["audio"]["voice"] is True
              and m["audio"]["mime_type"] == "audio/ogg; codecs=opus"),
    "document": ({"filename": "factura.pdf", "caption": "Factura"},
                 lambda m: m["document"]["filename"] == "factura.pdf"
                 and m["document"]["caption"] == "Factura"),
    "sticker": ({}, lambda m: m["sticker"]["animated"] is False
                and m["sticker"]["mime_type"] == "image/webp" and "caption" not in m["sticker"]),
    "location": ({"location": {"latitude": 19.43, "longitude": -99.13, "name": "Zócalo"}},
                 lambda m: m["location"]["name"] == "Zócalo"),
    "contacts": ({}, lambda m: m["contacts"][0]["name"]["formatted_name"]
                 and m["contacts"][0]["phones"][0]["wa_id"]),
    "interactive": ({"button_reply": {"id": "yes", "title": "Sí"}, "context_id": "wamid.OUT1"},
                    lambda m: m["interactive"] == {"type": "button_reply",
                                                   "button_reply": {"id": "yes",
                                                                    "title": "Sí"}}),
    "button": ({"payload": "STOP_PROMO", "text": "Stop", "context_id": "wamid.OUT1"},
               lambda m: m["button"] == {"payload": "STOP_PROMO", "text": "Stop"}),
    "reaction": ({"message_id": "wamid.OUT1", "emoji": "❤️"},
                 lambda m: m["reaction"] == {"message_id": "wamid.OUT1", "emoji": "❤️"}),
    "order": ({}, lambda m: m["order"]["product_items"][0]["quantity"] == 2),
    "system": ({"system": {"body": "x", "type": "customer_identity_changed"}},
               lambda m: m["system"]["type"] == "customer_identity_changed"),
    "unsupported": ({}, lambda m: m["errors"][0]["code"] == 131051),
    "ephemeral": ({}, lambda m: m["ephemeral"] == {}),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_inbound_type_payload(sim, receiver, kind):
    fields, check = CASES[kind]
    result = sim.customer_sends(WA, type=kind, name="Lupita", **fields)
    assert result["delivery"] == {"status_code": 200, "attempts": 1}
    hit = receiver.hits[-1]
    assert verify(hit)
    payload = hit["json"]
    assert payload["object"] == "whatsapp_business_account"
    entry = payload["entry"][0]
    assert entry["id"] == WABA
    change = entry["changes"][0]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {"display_phone_number": "15550001111", "phone_number_id": PNID}
    bsuid = sim.customer(WA)["bsuid"]
    assert bsuid.startswith("MX.")  # the customer's country, then the id
    assert value["contacts"] == [{"profile": {"name": "Lupita"}, "wa_id": WA,
                                  "user_id": bsuid}]
    message = value["messages"][0]
    assert message["from"] == WA and message["from_user_id"] == bsuid
    assert message["type"] == kind
    assert message["id"] == result["wamid"] and message["id"].startswith("wamid.")
    assert message["timestamp"].isdigit()
    assert check(message), message


def test_context_forwarded_and_referral(sim, receiver):
    sim.customer_sends(WA, "quoted", context_id="wamid.OUT9", forwarded=True,
                       referral={"headline": "Promo"})
    message = receiver.messages()[-1]
    assert message["context"] == {"from": "15550001111", "id": "wamid.OUT9", "forwarded": True}
    assert message["referral"]["headline"] == "Promo"
    assert message["referral"]["source_type"] == "ad"
    assert message["referral"]["ctwa_clid"]


def test_list_reply(sim, receiver):
    sim.customer_sends(WA, type="interactive", context_id="wamid.OUT1",
                       list_reply={"id": "r1", "title": "Row", "description": "d"})
    assert receiver.messages()[-1]["interactive"]["type"] == "list_reply"


def test_control_http_inbound(sim, receiver):
    resp = requests.post(sim.base_url + "/_sim/inbound",
                         json={"from": WA, "name": "Ana", "type": "text", "body": "olá"},
                         timeout=10)
    assert resp.status_code == 200
    data = resp.json()
    assert data["wamid"].startswith("wamid.")
    assert data["delivery"] == {"status_code": 200, "attempts": 1}
    assert receiver.messages()[-1]["text"]["body"] == "olá"
    assert sim.customer(WA)["name"] == "Ana"


def test_async_inbound(sim, receiver):
    from .support import wait_for

    resp = requests.post(sim.base_url + "/_sim/inbound",
                         json={"from": WA, "text": "later", "async": True}, timeout=10)
    assert resp.json()["delivery"] is None
    wait_for(lambda: receiver.messages() and receiver.messages()[-1]["text"]["body"] == "later")


def test_inbound_opens_window(sim):
    from .support import Graph, wait_for

    graph = Graph(sim)
    closed = graph.send(WA).json()["messages"][0]["id"]
    wait_for(lambda: sim.message(closed)["status"] == "failed")
    sim.customer_sends(WA, "hi")
    opened = graph.send(WA).json()["messages"][0]["id"]
    wait_for(lambda: sim.message(opened)["status"] == "read")
