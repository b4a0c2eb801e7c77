"""A salesperson answers from the lead form in a real browser (headless Debian Chromium).

The customer writes through the simulator; the salesperson opens the lead, reads the
message in the chatter, clicks WhatsApp beside "Log note", types and sends; the
simulator receives the message. Screenshots land in artifacts/.
"""

from __future__ import annotations

import os
from pathlib import Path

from selenium.webdriver.common.by import By

from tests.browser import log_in, wait_for
from tests.integration.test_inbound_live import _new_wa_id, _wait_for

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def test_salesperson_replies_from_the_lead_chatter(odoo, odoo_url, simulator, wa_account,
                                                  browser):
    wa_id = _new_wa_id()
    simulator.customer_sends(wa_id, name="Valentina Ríos", type="text",
                             text="Hola, ¿me mandan el catálogo?")
    conversation = _wait_for(lambda: odoo.call(
        "whatsapp.crm.conversation", "search_read",
        [("account_id", "=", wa_account), ("wa_id", "=", wa_id), ("lead_id", "!=", False)],
        ["lead_id"]))
    lead_id = conversation[0]["lead_id"][0]

    # With --workers, only the gevent port serves the web client's websocket.
    web_url = os.environ.get("WACRM_ODOO_GEVENT_URL") or odoo_url
    log_in(browser, web_url, odoo.db, odoo.login, odoo.password)
    browser.get(f"{web_url}/odoo/crm/{lead_id}")
    inbound = wait_for(browser, ".o-mail-Message")
    assert "¿me mandan el catálogo?" in inbound.text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser-lead-inbound.png"))

    wait_for(browser, ".o-whatsapp-crm-ChatterButton", clickable=True).click()
    body = wait_for(browser, ".modal div[name='body'] textarea", clickable=True)
    body.send_keys("¡Claro! Te lo envío ahora.")
    browser.save_screenshot(str(ARTIFACTS / "browser-composer.png"))
    browser.find_element(By.CSS_SELECTOR, ".modal button[name='action_send']").click()

    sent = _wait_for(lambda: [r for r in simulator.requests("/messages")
                              if r["json"].get("type") == "text"])
    assert sent[0]["json"]["text"]["body"] == "¡Claro! Te lo envío ahora."
    # Our message, with its WhatsApp tick (the customer's has none).
    outbound = wait_for(browser, ".o-mail-Message:has(.o_whatsapp_crm_ticks)")
    assert "Te lo envío ahora" in outbound.text
    browser.save_screenshot(str(ARTIFACTS / "browser-lead-replied.png"))
