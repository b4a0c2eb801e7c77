"""A salesperson works a conversation from the inbox in a real browser (headless Chromium).

The customer writes through the simulator; the salesperson (WhatsApp User, not admin)
opens the lead and reads the message, answers from the conversation form's reply
area, and sees the customer's next messages arrive through the bus, without any page
reload, both in the conversation thread and in the lead's chatter. Screenshots land
in artifacts/; the inbox one is copied to each addon's static/description/.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import log_in, wait_for
from tests.integration.test_inbound_live import _new_wa_id, _wait_for

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
ADDONS = ("whatsapp_crm", "whatsapp_crm_campaigns", "whatsapp_crm_ai")
MARKER = "window.__whatsappCrmNoReload"


@pytest.fixture
def bus_url(odoo_url):
    """Where the browser gets both pages and /websocket.

    With --workers, /websocket is only served by the gevent process (production puts
    a proxy in front that routes it there); the browser uses that port directly.
    """
    url = os.environ.get("WACRM_ODOO_GEVENT_URL")
    if not url:
        pytest.skip("WACRM_ODOO_GEVENT_URL is not set: no websocket for live updates")
    return url.rstrip("/")


@pytest.fixture
def salesperson(odoo):
    login = f"wa_inbox_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    group = odoo.call("ir.model.data", "check_object_reference",
                      "whatsapp_crm", "group_whatsapp_crm_user")[1]
    user_id = odoo.call("res.users", "create", {
        "name": "Inês Duarte", "login": login, "password": password,
        "email": f"{login}@example.com", "group_ids": [(6, 0, [group])],
    })
    yield {"id": user_id, "login": login, "password": password}
    odoo.call("res.users", "write", [user_id], {"active": False})


def _text_appears(browser, css, text, timeout=60):
    # live updates redraw the thread: an element found may be replaced before it is read
    WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: any(text in el.text for el in b.find_elements(By.CSS_SELECTOR, css)))


def _type_reply(browser, text, timeout=60):
    """Type into the reply area, again if a live update redrew the form meanwhile."""
    css = "div[name='reply_body'] textarea"

    def typed(b):
        area = b.find_element(By.CSS_SELECTOR, css)
        area.clear()
        area.send_keys(text)
        return b.find_element(By.CSS_SELECTOR, css).get_attribute("value") == text

    WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        typed)


def _no_dialog(browser):
    dialogs = browser.find_elements(By.CSS_SELECTOR, ".modal .modal-content")
    if dialogs:
        for toggle in dialogs[0].find_elements(By.CSS_SELECTOR, "button.btn-link"):
            toggle.click()
    assert not dialogs, f"unexpected dialog: {dialogs[0].text[:3000]}"


def _assert_not_reloaded(browser):
    assert browser.execute_script(f"return {MARKER} === true"), "the page was reloaded"


def test_salesperson_answers_from_the_inbox_and_sees_replies_live(
        odoo, bus_url, simulator, wa_account, salesperson, browser):
    odoo_url = bus_url
    wa_id = _new_wa_id()
    simulator.customer_sends(wa_id, name="Valentina Ríos", type="text",
                             text="Hola, ¿tienen el plan anual?")
    conversation = _wait_for(lambda: odoo.call(
        "whatsapp.crm.conversation", "search_read",
        [("account_id", "=", wa_account), ("wa_id", "=", wa_id), ("lead_id", "!=", False)],
        ["lead_id"]))[0]
    lead_id = conversation["lead_id"][0]
    odoo.call("crm.lead", "write", [lead_id], {"user_id": salesperson["id"]})
    odoo.call("whatsapp.crm.conversation", "write", [conversation["id"]],
              {"user_id": salesperson["id"]})

    # 1. the salesperson opens the lead and reads the customer's message
    log_in(browser, odoo_url, odoo.db, salesperson["login"], salesperson["password"])
    browser.get(f"{odoo_url}/odoo/crm/{lead_id}")
    _text_appears(browser, ".o-mail-Message", "¿tienen el plan anual?")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser-inbox-lead.png"))

    # 2. the thread and the reply area of the conversation, side by side
    browser.get(f"{odoo_url}/odoo/action-whatsapp_crm.whatsapp_crm_inbox_action/"
                f"{conversation['id']}")
    _text_appears(browser, ".o_whatsapp_crm_thread", "¿tienen el plan anual?")
    wait_for(browser, "div[name='reply_body'] textarea", clickable=True)
    _no_dialog(browser)
    _type_reply(browser, "¡Sí! 990 € al año, con dos meses gratis.")
    wait_for(browser, "button[name='action_send_reply']", clickable=True).click()
    sent = _wait_for(lambda: [r for r in simulator.requests("/messages")
                              if r["method"] == "POST" and r["json"].get("type") == "text"])
    assert sent[0]["json"]["text"]["body"] == "¡Sí! 990 € al año, con dos meses gratis."
    _text_appears(browser, ".o_whatsapp_crm_thread .o_whatsapp_crm_out", "990 €")

    # 3. the customer answers: the thread shows it without reloading the page
    browser.execute_script(f"{MARKER} = true;")
    simulator.customer_sends(wa_id, name="Valentina Ríos", type="text",
                             text="Perfecto, lo quiero.")
    _text_appears(browser, ".o_whatsapp_crm_thread .o_whatsapp_crm_in", "lo quiero")
    _assert_not_reloaded(browser)
    screenshot = ARTIFACTS / "browser-inbox-conversation.png"
    browser.save_screenshot(str(screenshot))

    # 4. the lead's chatter also receives the next message live
    browser.get(f"{odoo_url}/odoo/crm/{lead_id}")
    _text_appears(browser, ".o-mail-Message", "lo quiero")
    browser.execute_script(f"{MARKER} = true;")
    simulator.customer_sends(wa_id, name="Valentina Ríos", type="text",
                             text="¿Me mandan la factura?")
    _text_appears(browser, ".o-mail-Message", "la factura")
    _assert_not_reloaded(browser)
    browser.save_screenshot(str(ARTIFACTS / "browser-inbox-lead-live.png"))

    for addon in ADDONS:
        shutil.copyfile(screenshot, REPO / addon / "static" / "description" / "screenshot.png")
