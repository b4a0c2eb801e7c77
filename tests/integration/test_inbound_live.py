"""Inbound WhatsApp against a running Odoo server (2 workers) and the simulator.

Everything crosses real HTTP: the simulator signs and posts webhooks to Odoo,
Odoo downloads media from the simulator, and the test reads Odoo over JSON-RPC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import requests

WORKERS = 8


def _signed_post(url, app_secret, payload):
    raw = json.dumps(payload, ensure_ascii=False).encode()
    signature = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return requests.post(
        f"{url}/whatsapp_crm/webhook",
        data=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
        timeout=60,
    )


def _post_concurrently(url, app_secret, payloads):
    """POST every payload at once, one thread each; the HTTP statuses in order."""
    with ThreadPoolExecutor(len(payloads)) as pool:
        return list(pool.map(
            lambda payload: _signed_post(url, app_secret, payload).status_code, payloads))


def _inbound(account, wa_id, messages, name="Cliente Concorrente"):
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": account.waba_id, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": account.display_phone_number,
                         "phone_number_id": account.phone_number_id},
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
            "messages": messages,
        }}]}],
    }


def _text(wa_id, wamid, body):
    return {"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
            "text": {"body": body}}


def _new_wa_id():
    return f"55119{secrets.randbelow(10**8):08d}"


def _count(odoo, model, domain):
    return odoo.call(model, "search_count", domain)


def _wait_for(predicate, timeout=30.0, interval=0.2):
    """Poll a condition (webhooks are asynchronous by nature); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def _wait_all_events_processed(odoo, account_id):
    """Webhooks are answered first and processed by the cron worker right after."""
    pending = [("account_id", "=", account_id), ("state", "=", "pending")]
    _wait_for(lambda: _count(odoo, "whatsapp.crm.webhook.event", pending) == 0)


def test_customer_text_and_image_reach_the_lead(odoo, simulator, sim_account, wa_account):
    wa_id = _new_wa_id()
    simulator.customer_sends(wa_id, name="Rosa Quintana", type="text",
                             text="Hola, ¿tienen envío a Córdoba? <b>urgente</b>")
    simulator.customer_sends(wa_id, name="Rosa Quintana", type="image", caption="mi pedido")

    def read_messages():
        return odoo.call(
            "whatsapp.crm.message", "search_read",
            [("account_id", "=", wa_account), ("conversation_id.wa_id", "=", wa_id)],
            ["body", "message_type", "lead_id", "partner_id", "attachment_ids", "media_state"],
            order="id")

    _wait_for(lambda: len(read_messages()) == 2)
    # The media is downloaded once the message is stored, outside the customer's lock.
    _wait_for(lambda: read_messages()[1]["media_state"] != "pending")
    messages = read_messages()
    text, image = messages
    assert text["body"] == "Hola, ¿tienen envío a Córdoba? <b>urgente</b>"
    assert text["partner_id"][1] == "Rosa Quintana"
    assert text["lead_id"] and image["lead_id"] == text["lead_id"]
    assert image["media_state"] == "done"
    attachment = odoo.call("ir.attachment", "read", image["attachment_ids"],
                           ["mimetype", "datas", "file_size"])[0]
    assert attachment["mimetype"].startswith("image/")
    assert base64.b64decode(attachment["datas"])[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0",
                                                         b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb")
    lead = odoo.call("crm.lead", "read", [text["lead_id"][0]],
                     ["source_id", "message_ids", "partner_id"])[0]
    assert lead["source_id"][1] == "WhatsApp"
    posts = odoo.call("mail.message", "read", lead["message_ids"], ["body", "attachment_ids"])
    assert any("&lt;b&gt;urgente&lt;/b&gt;" in post["body"] for post in posts)
    assert any(post["attachment_ids"] == image["attachment_ids"] for post in posts), \
        "the downloaded image is shown on the lead's post"


def test_the_same_payload_posted_concurrently_is_stored_once(odoo, odoo_url, sim_account,
                                                            wa_account):
    wa_id = _new_wa_id()
    wamid = f"wamid.CONC{secrets.token_hex(8)}"
    payload = _inbound(sim_account, wa_id, [_text(wa_id, wamid, "once only")])
    statuses = _post_concurrently(odoo_url, sim_account.app_secret, [payload] * WORKERS)
    assert statuses == [200] * WORKERS
    _wait_all_events_processed(odoo, wa_account)
    assert _count(odoo, "whatsapp.crm.message", [("wamid", "=", wamid)]) == 1
    assert _count(odoo, "whatsapp.crm.webhook.event", [("account_id", "=", wa_account)]) == 1


def test_one_wamid_in_concurrent_rebatched_payloads_is_stored_once(odoo, odoo_url,
                                                                  sim_account, wa_account):
    wa_id = _new_wa_id()
    shared = f"wamid.SHARED{secrets.token_hex(8)}"
    payloads = [
        _inbound(sim_account, wa_id, [_text(wa_id, shared, "shared"),
                                      _text(wa_id, f"wamid.OWN{index}{secrets.token_hex(6)}",
                                            f"own {index}")])
        for index in range(WORKERS)
    ]
    assert _post_concurrently(odoo_url, sim_account.app_secret, payloads) == [200] * WORKERS
    _wait_all_events_processed(odoo, wa_account)
    assert _count(odoo, "whatsapp.crm.message", [("wamid", "=", shared)]) == 1
    domain = [("account_id", "=", wa_account), ("conversation_id.wa_id", "=", wa_id)]
    assert _count(odoo, "whatsapp.crm.message", domain) == WORKERS + 1
    events = odoo.call("whatsapp.crm.webhook.event", "search_read",
                       [("account_id", "=", wa_account)], ["state"])
    assert [event["state"] for event in events] == ["done"] * WORKERS


def test_first_messages_of_a_new_customer_in_parallel_make_one_contact_and_lead(
        odoo, odoo_url, sim_account, wa_account):
    wa_id = _new_wa_id()
    payloads = [
        _inbound(sim_account, wa_id, [_text(wa_id, f"wamid.FIRST{secrets.token_hex(8)}",
                                            f"message {index}")])
        for index in range(WORKERS)
    ]
    assert _post_concurrently(odoo_url, sim_account.app_secret, payloads) == [200] * WORKERS
    _wait_all_events_processed(odoo, wa_account)
    domain = [("account_id", "=", wa_account), ("conversation_id.wa_id", "=", wa_id)]
    assert _count(odoo, "whatsapp.crm.message", domain) == WORKERS
    assert _count(odoo, "whatsapp.crm.conversation",
                  [("account_id", "=", wa_account), ("wa_id", "=", wa_id)]) == 1
    assert _count(odoo, "res.partner", [("whatsapp_wa_id", "=", wa_id)]) == 1
    assert _count(odoo, "crm.lead", [("partner_id.whatsapp_wa_id", "=", wa_id)]) == 1


def test_forged_webhook_is_refused_by_the_live_server(odoo, odoo_url, sim_account, wa_account):
    wa_id = _new_wa_id()
    payload = _inbound(sim_account, wa_id, [_text(wa_id, "wamid.FORGED1", "forged")])
    response = _signed_post(odoo_url, "not-the-app-secret", payload)
    assert response.status_code == 403
    assert _count(odoo, "whatsapp.crm.message", [("wamid", "=", "wamid.FORGED1")]) == 0
