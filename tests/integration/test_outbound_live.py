"""A salesperson chats from the lead form: live Odoo (2 workers) + the simulator, HTTP both ways.

1. a customer writes and a lead appears;
2. a salesperson (non-admin, sales rights) replies from the lead through JSON-RPC;
3. the simulator validates and records the request, and its statuses come back;
4. the read tick shows;
5. once the window has passed (simulated clock), free text is refused and a template
   goes through.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter

import pytest

from tests.integration.test_inbound_live import _new_wa_id, _wait_for
from tests.odoo_rpc import OdooRpc, OdooRpcError

WINDOW_LEFT_SECONDS = 45


@pytest.fixture
def simulator_config_overrides():
    # The customer's message is stamped 24 h minus WINDOW_LEFT_SECONDS ago, by the
    # simulator's clock, so Odoo's window closes during the test in real time.
    return {"clock_start": time.time() - 24 * 3600 + WINDOW_LEFT_SECONDS,
            "status_latency": 0.3}


@pytest.fixture
def salesperson(odoo):
    login = f"seller_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    groups = [odoo.call("ir.model.data", "check_object_reference", module, name)[1]
              for module, name in (("whatsapp_crm", "group_whatsapp_crm_user"),
                                   ("sales_team", "group_sale_salesman"))]
    user_id = odoo.call("res.users", "create", {
        "name": "Sofía Vendedora", "login": login, "password": password,
        "group_ids": [(6, 0, groups)],
    })
    rpc = OdooRpc(odoo.url, odoo.db, login, password)
    rpc.authenticate()
    yield user_id, rpc
    rpc.close()


def _lead_of(odoo, account_id, wa_id):
    conversations = odoo.call("whatsapp.crm.conversation", "search_read",
                              [("account_id", "=", account_id), ("wa_id", "=", wa_id)],
                              ["lead_id", "window_open"])
    return conversations[0] if conversations and conversations[0]["lead_id"] else None


def _compose_and_send(rpc, lead_id, account_id, values):
    context = {"active_model": "crm.lead", "active_ids": [lead_id], "active_id": lead_id}
    composer_id = rpc.call("whatsapp.crm.composer", "create",
                           {"account_id": account_id, **values}, context=context)
    return rpc.call("whatsapp.crm.composer", "action_send", [composer_id], context=context)


def test_salesperson_chats_from_the_lead(odoo, simulator, sim_account, wa_account, salesperson):
    user_id, seller = salesperson
    wa_id = _new_wa_id()

    # 1. A customer writes; a lead appears.
    simulator.customer_sends(wa_id, name="Camila Duarte", type="text", text="¿Tienen stock?")
    conversation = _wait_for(lambda: _lead_of(odoo, wa_account, wa_id))
    lead_id = conversation["lead_id"][0]
    odoo.call("crm.lead", "write", [lead_id], {"user_id": user_id})

    # 2. The salesperson replies from the lead, through JSON-RPC like the web client.
    _compose_and_send(seller, lead_id, wa_account,
                      {"use_template": False, "body": "¡Sí! Te envío la cotización."})

    # 3. The simulator validated and recorded it; statuses come back to Odoo.
    sent = _wait_for(lambda: [r for r in simulator.requests("/messages")
                              if r["json"].get("type") == "text"])
    assert sent[0]["json"]["text"]["body"] == "¡Sí! Te envío la cotización."
    assert sent[0]["json"]["to"] == f"+{wa_id}"
    message = _wait_for(lambda: seller.call(
        "whatsapp.crm.message", "search_read",
        [("conversation_id.wa_id", "=", wa_id), ("direction", "=", "out")],
        ["state", "mail_message_ids", "wamid"]))[0]

    # 4. Read: the message says so, and the chatter posts (lead and conversation) mirror
    # the delivery in a notification of our own type; their text is never rewritten.
    _wait_for(lambda: seller.call("whatsapp.crm.message", "read", [message["id"]],
                                  ["state"])[0]["state"] == "read")
    posts = seller.call("mail.message", "read", message["mail_message_ids"],
                        ["model", "body", "notification_ids", "message_type"])
    assert {post["model"] for post in posts} == {"crm.lead", "whatsapp.crm.conversation"}
    assert {post["message_type"] for post in posts} == {"whatsapp_crm"}
    notifications = odoo.call("mail.notification", "read",
                              [n for post in posts for n in post["notification_ids"]],
                              ["notification_type", "notification_status"])
    assert {(n["notification_type"], n["notification_status"]) for n in notifications} == {
        ("whatsapp_crm", "sent")}

    # 5. The window passes: free text is refused before Meta, a template goes through.
    _wait_for(lambda: not _lead_of(odoo, wa_account, wa_id)["window_open"],
              timeout=WINDOW_LEFT_SECONDS + 30, interval=1)
    requests_before = len(simulator.requests("/messages"))
    with pytest.raises(OdooRpcError, match="24-hour window"):
        _compose_and_send(seller, lead_id, wa_account,
                          {"use_template": False, "body": "¿Seguís ahí?"})
    assert len(simulator.requests("/messages")) == requests_before

    components = [{"type": "BODY", "text": "Hola {{1}}, ¿seguimos con tu pedido?",
                   "example": {"body_text": [["Ana"]]}}]
    simulator.seed_template({"name": "seguimiento", "language": "es", "category": "UTILITY",
                             "components": components, "status": "APPROVED"},
                            waba_id=sim_account.waba_id)
    template_id = odoo.call("whatsapp.crm.template", "create", {
        "name": "seguimiento", "language": "es", "category": "utility", "status": "approved",
        "account_id": wa_account, "components": components,
    })
    variables = odoo.call("whatsapp.crm.template", "read", [template_id],
                          ["variable_ids"])[0]["variable_ids"]
    odoo.call("whatsapp.crm.template.variable", "write", variables,
              {"field_path": "partner_id.name"})
    _compose_and_send(seller, lead_id, wa_account,
                      {"use_template": True, "template_id": template_id})
    template_sends = _wait_for(lambda: [r for r in simulator.requests("/messages")
                                        if r["json"].get("type") == "template"])
    parameters = template_sends[0]["json"]["template"]["components"][0]["parameters"]
    assert parameters == [{"type": "text", "text": "Camila Duarte"}]


def _system_params(odoo, params):
    """Set system parameters for one test (a fixture body), then unset them."""
    for key, value in params.items():
        odoo.call("ir.config_parameter", "set_param", key, value)
    yield
    for key in params:
        odoo.call("ir.config_parameter", "set_param", key, False)


@pytest.fixture
def fast_retries(odoo):
    # Meta's statuses must arrive within the reconcile delay; the simulator's slow
    # answer below takes 4 s, its statuses follow 0.2 s later.
    yield from _system_params(odoo, {"whatsapp_crm.send_reconcile_seconds": "12",
                                     "whatsapp_crm.api_timeout_seconds": "2"})


def test_faults_never_lose_or_duplicate_a_message(odoo, simulator, sim_account, wa_account,
                                                  fast_retries):
    wa_id = _new_wa_id()
    simulator.customer_sends(wa_id, name="Bruno Faults", type="text", text="hola")
    lead_id = _wait_for(lambda: _lead_of(odoo, wa_account, wa_id))["lead_id"][0]
    for kind, extra in (("http_500", {}), ("graph_error", {"code": 130429}),
                        ("drop_response", {}), ("timeout", {"delay": 4}),
                        ("http_500", {}), ("graph_error", {"code": 131000})):
        simulator.inject_fault(kind, count=1, path="/messages", **extra)
    count = 8
    for index in range(count):
        _compose_and_send(odoo, lead_id, wa_account,
                          {"use_template": False, "body": f"mensaje {index}"})

    def all_sent():
        states = odoo.call("whatsapp.crm.message", "search_read",
                           [("conversation_id.wa_id", "=", wa_id), ("direction", "=", "out")],
                           ["state"])
        return len(states) == count and all(s["state"] in ("sent", "delivered", "read")
                                            for s in states)

    _wait_for(all_sent, timeout=180, interval=1)
    accepted = Counter(r["json"].get("biz_opaque_callback_data")
                       for r in simulator.requests("/messages")
                       if r["json"].get("type") == "text")
    assert len(accepted) == count
    assert set(accepted.values()) == {1}, accepted


@pytest.fixture
def slow_meta(odoo):
    yield from _system_params(odoo, {"whatsapp_crm.send_reconcile_seconds": "30"})


def test_statuses_overtaking_metas_answer_never_fail_the_send(
        odoo, simulator, sim_account, wa_account, salesperson, slow_meta):
    """Meta's sent/delivered webhooks arrive before the HTTP answer to our send."""
    user_id, seller = salesperson
    wa_id = _new_wa_id()
    simulator.customer_sends(wa_id, name="Dora Overtake", type="text", text="hola")
    lead_id = _wait_for(lambda: _lead_of(odoo, wa_account, wa_id))["lead_id"][0]
    odoo.call("crm.lead", "write", [lead_id], {"user_id": user_id})
    # The answer to the send comes 3 s late; its statuses (0.3 s apart) are on time.
    simulator.inject_fault("slow_response", count=1, path="/messages$", delay=3)

    result = _compose_and_send(seller, lead_id, wa_account,
                               {"use_template": False, "body": "¿Lo recibiste?"})
    assert result  # the salesperson's Send succeeded: no error reached them

    def outbound():
        return seller.call("whatsapp.crm.message", "search_read",
                           [("conversation_id.wa_id", "=", wa_id), ("direction", "=", "out")],
                           ["state", "wamid", "send_attempts"])

    messages = _wait_for(lambda: [m for m in outbound() if m["state"] == "read"] and outbound(),
                         timeout=60)
    assert len(messages) == 1
    accepted = [r for r in simulator.requests("/messages")
                if r["json"].get("type") == "text" and r["status"] == 200]
    assert len(accepted) == 1, "sent once"
    assert messages[0]["wamid"] == accepted[0]["wamid"]
