"""The public methods integrators call work over Odoo's XML-RPC, which cannot marshal None.

Each call goes through ``/xmlrpc/2/object`` of the live server, as an ERP connector or
a script would, and its effect is then checked.
"""

from __future__ import annotations

from xmlrpc import client as xmlrpc_client

import pytest

from tests.integration.test_inbound_live import _new_wa_id, _wait_for


@pytest.fixture
def xml_rpc(wacrm_env, odoo_url):
    common = xmlrpc_client.ServerProxy(f"{odoo_url}/xmlrpc/2/common", allow_none=False)
    db, login, password = (wacrm_env[name] for name in
                           ("WACRM_ODOO_DB", "WACRM_ODOO_LOGIN", "WACRM_ODOO_PASSWORD"))
    uid = common.authenticate(db, login, password, {})
    assert uid
    models = xmlrpc_client.ServerProxy(f"{odoo_url}/xmlrpc/2/object", allow_none=False)

    def call(model, method, *args, **kwargs):
        return models.execute_kw(db, uid, password, model, method, list(args), kwargs)

    return call


def test_actions_return_a_value_xmlrpc_can_carry(xml_rpc, simulator, sim_account, wa_account):
    wa_id = _new_wa_id()
    simulator.customer_sends(wa_id, name="Iris Rpc", type="text", text="hola")
    conversation_id = _wait_for(lambda: xml_rpc(
        "whatsapp.crm.conversation", "search",
        [("account_id", "=", wa_account), ("wa_id", "=", wa_id)]))[0]

    def conversation(*fields):
        return xml_rpc("whatsapp.crm.conversation", "read", [conversation_id], list(fields))[0]

    assert xml_rpc("whatsapp.crm.conversation", "action_mark_read", [conversation_id]) is True
    _wait_for(lambda: [r for r in simulator.requests("/messages")
                       if r["json"].get("status") == "read"])

    assert xml_rpc("whatsapp.crm.conversation", "action_resolve", [conversation_id]) is True
    assert conversation("state")["state"] == "resolved"
    assert xml_rpc("whatsapp.crm.conversation", "action_reopen", [conversation_id]) is True
    assert conversation("state")["state"] == "open"

    partner_id = conversation("partner_id")["partner_id"][0]
    assert xml_rpc("res.partner", "action_whatsapp_opt_in", [partner_id]) is True
    assert xml_rpc("res.partner", "read", [partner_id],
                  ["whatsapp_opt_in"])[0]["whatsapp_opt_in"] == "opted_in"
    assert xml_rpc("res.partner", "action_whatsapp_opt_out", [partner_id]) is True
    assert xml_rpc("res.partner", "read", [partner_id],
                  ["whatsapp_opt_in"])[0]["whatsapp_opt_in"] == "opted_out"

    # A reply through the agent's draft, then a failure and its resend.
    simulator.inject_fault("graph_error", count=1, code=131026, path="/messages$")
    xml_rpc("whatsapp.crm.conversation", "write", [conversation_id],
           {"reply_body": "¿Seguimos?"})
    assert xml_rpc("whatsapp.crm.conversation", "action_send_reply", [conversation_id]) is True
    failed = _wait_for(lambda: xml_rpc("whatsapp.crm.message", "search",
                                      [("conversation_id", "=", conversation_id),
                                       ("state", "=", "failed")]))
    assert xml_rpc("whatsapp.crm.message", "action_resend", failed) is True
    _wait_for(lambda: xml_rpc("whatsapp.crm.message", "read", failed,
                             ["state"])[0]["state"] in ("sent", "delivered", "read"))
