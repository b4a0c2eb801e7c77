"""Customers as Meta identifies them since 2026, against a live Odoo and the simulator.

- a customer who uses a username and withholds the number gets a contact and a
  conversation keyed by their BSUID, and our reply goes out through ``recipient``;
- a new BSUID (``user_changed_user_id``) or a new number (``user_changed_number``)
  keeps the same contact and conversation;
- a free-form send that Meta accepts outside its window fails asynchronously (131047)
  and the reason shows on the message and its chatter post;
- the simulator's redelivery outlasts an unreachable Odoo.
"""

from __future__ import annotations

import pytest

from tests.integration.test_inbound_live import _new_wa_id, _wait_for

CONVERSATION_FIELDS = ["wa_id", "bsuid", "username", "partner_id", "lead_id", "name"]


@pytest.fixture
def simulator_config_overrides():
    return {"status_latency": 0.2, "webhook_backoff": 0.2, "webhook_backoff_max": 1.0}


def _conversation(odoo, account_id, **where):
    domain = [("account_id", "=", account_id)] + [(k, "=", v) for k, v in where.items()]
    found = odoo.call("whatsapp.crm.conversation", "search_read", domain, CONVERSATION_FIELDS)
    return found[0] if found else None


def _reply(odoo, conversation_id, account_id, text):
    context = {"active_model": "whatsapp.crm.conversation", "active_ids": [conversation_id],
               "active_id": conversation_id}
    composer = odoo.call("whatsapp.crm.composer", "create",
                         {"account_id": account_id, "use_template": False, "body": text},
                         context=context)
    odoo.call("whatsapp.crm.composer", "action_send", [composer], context=context)


def _out_message(odoo, conversation_id):
    return _wait_for(lambda: odoo.call(
        "whatsapp.crm.message", "search_read",
        [("conversation_id", "=", conversation_id), ("direction", "=", "out")],
        ["state", "error_code", "error_message", "mail_message_ids", "wamid"]))[0]


def _username_customer_writes(odoo, simulator, wa_account, name, username, text):
    """A customer who withholds their number writes; their BSUID and conversation."""
    wa_id = _new_wa_id()
    simulator.register_customer(wa_id, name, username=username, username_only=True)
    bsuid = simulator.customer(wa_id)["bsuid"]
    simulator.customer_sends({"from_user_id": bsuid, "text": text})
    return bsuid, _wait_for(lambda: _conversation(odoo, wa_account, bsuid=bsuid))


def test_username_only_customer_is_answered_by_bsuid(odoo, simulator, wa_account):
    bsuid, conversation = _username_customer_writes(odoo, simulator, wa_account, "Bea Souza",
                                                    "@bea", "Oi, vocês entregam?")
    assert conversation["wa_id"] is False and conversation["username"] == "@bea"
    partner = odoo.call("res.partner", "read", [conversation["partner_id"][0]],
                        ["name", "phone", "whatsapp_bsuid", "whatsapp_wa_id"])[0]
    assert partner["name"] == "Bea Souza" and partner["whatsapp_bsuid"] == bsuid
    assert partner["phone"] is False and partner["whatsapp_wa_id"] is False
    assert conversation["lead_id"]  # the lead is created as for any first message

    _reply(odoo, conversation["id"], wa_account, "Entregamos sim!")
    body = _wait_for(lambda: [r["json"] for r in simulator.requests("/messages")
                              if r["json"].get("type") == "text"])[0]
    assert body["recipient"] == bsuid and "to" not in body
    message = _out_message(odoo, conversation["id"])
    # Statuses of a BSUID send carry recipient_user_id and no recipient_id.
    _wait_for(lambda: odoo.call("whatsapp.crm.message", "read", [message["id"]],
                                ["state"])[0]["state"] == "read")
    statuses = [w["payload"]["entry"][0]["changes"][0]["value"]["statuses"][0]
                for w in simulator.webhooks("status:")]
    assert statuses and all("recipient_id" not in s and s["recipient_user_id"] == bsuid
                            for s in statuses)


def test_new_bsuid_keeps_contact_and_conversation(odoo, simulator, wa_account):
    old_bsuid, before = _username_customer_writes(odoo, simulator, wa_account, "Caio Lima",
                                                  "@caio", "Olá")

    change = simulator.customer_changes_number(old_bsuid, _new_wa_id())
    assert change["message"]["system"]["type"] == "user_changed_user_id"
    after = _wait_for(lambda: _conversation(odoo, wa_account, bsuid=change["user_id"]))
    assert after["id"] == before["id"] and after["partner_id"] == before["partner_id"]
    assert _conversation(odoo, wa_account, bsuid=old_bsuid) is None
    partner = odoo.call("res.partner", "read", [after["partner_id"][0]], ["whatsapp_bsuid"])
    assert partner[0]["whatsapp_bsuid"] == change["user_id"]

    simulator.customer_sends({"from_user_id": change["user_id"], "text": "Sou eu de novo"})
    _wait_for(lambda: odoo.call("whatsapp.crm.message", "search_count",
                                [("conversation_id", "=", after["id"]),
                                 ("body", "=", "Sou eu de novo")]))
    assert odoo.call("whatsapp.crm.conversation", "search_count",
                     [("partner_id", "=", after["partner_id"][0])]) == 1


def test_new_number_keeps_conversation_and_history(odoo, simulator, wa_account):
    old, new = _new_wa_id(), _new_wa_id()
    simulator.customer_sends(old, "Bom dia", name="Duda Reis")
    before = _wait_for(lambda: _conversation(odoo, wa_account, wa_id=old))

    change = simulator.customer_changes_number(old, new)
    assert change["message"]["system"]["type"] == "user_changed_number"
    after = _wait_for(lambda: _conversation(odoo, wa_account, wa_id=new))
    assert after["id"] == before["id"] and after["bsuid"] == change["user_id"]
    partner = odoo.call("res.partner", "read", [after["partner_id"][0]],
                        ["phone", "whatsapp_wa_id"])[0]
    assert partner["whatsapp_wa_id"] == new and partner["phone"].replace(" ", "") == f"+{new}"
    # The old number stays in the conversation's history.
    system = odoo.call("whatsapp.crm.message", "search_read",
                       [("conversation_id", "=", after["id"]), ("message_type", "=", "system")],
                       ["body"])
    assert len(system) == 1 and old in system[0]["body"] and new in system[0]["body"]

    simulator.customer_sends(new, "Número novo")
    _wait_for(lambda: odoo.call("whatsapp.crm.message", "search_count",
                                [("conversation_id", "=", after["id"]),
                                 ("body", "=", "Número novo")]))


def test_send_meta_refuses_after_accepting_shows_the_reason(odoo, simulator, wa_account):
    """Odoo believes the window open; Meta's clock says it closed: the send is accepted,
    then fails with 131047 in a status webhook, shown on the message and in the chatter."""
    wa_id = _new_wa_id()
    simulator.customer_sends(wa_id, "Oi", name="Elis")
    conversation = _wait_for(lambda: _conversation(odoo, wa_account, wa_id=wa_id))
    simulator.advance_clock(25 * 3600)

    _reply(odoo, conversation["id"], wa_account, "Ainda precisa de ajuda?")
    message = _out_message(odoo, conversation["id"])
    failed = _wait_for(lambda: odoo.call(
        "whatsapp.crm.message", "search_read",
        [("id", "=", message["id"]), ("state", "=", "failed")],
        ["error_code", "error_message", "mail_message_ids", "wamid"]))[0]
    assert failed["wamid"].startswith("wamid.") and failed["error_code"] == 131047
    assert "24 hours" in failed["error_message"]
    posts = odoo.call("mail.message", "read", failed["mail_message_ids"], ["notification_ids"])
    notifications = odoo.call("mail.notification", "read",
                              [n for post in posts for n in post["notification_ids"]],
                              ["notification_status", "failure_reason"])
    assert notifications and all(n["notification_status"] == "exception"
                                 and "24 hours" in n["failure_reason"] for n in notifications)


def test_redelivery_outlasts_an_unreachable_odoo(odoo, simulator, sim_account, wa_account):
    """While Odoo cannot be reached (a restart), Meta keeps the webhook and retries."""
    wa_id = _new_wa_id()
    odoo_url, sim_account.webhook_url = sim_account.webhook_url, "http://127.0.0.1:9/down"
    sent = simulator.customer_sends(wa_id, "Alguém aí?", wait=False)
    _wait_for(lambda: simulator.webhooks("inbound")[-1]["attempts"] >= 3)
    assert _conversation(odoo, wa_account, wa_id=wa_id) is None
    sim_account.webhook_url = odoo_url
    _wait_for(lambda: odoo.call("whatsapp.crm.message", "search_count",
                                [("wamid", "=", sent["wamid"])]))
    record = simulator.webhooks("inbound")[-1]
    assert record["status_code"] == 200 and record["attempts"] >= 4
