"""Delivery ticks on an open lead follow Meta's statuses live: ✓, then ✓✓, then blue ✓✓.

The simulator's clock is frozen, so each status is emitted only when the test moves the
clock; the page is never reloaded in between.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser import log_in, wait_for
from tests.integration.test_inbound_live import _new_wa_id, _wait_for

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
STATUS_LATENCY = 10  # simulated seconds between sent, delivered and read


@pytest.fixture
def simulator_config_overrides():
    return {"frozen_clock": True, "status_latency": STATUS_LATENCY, "read_probability": 1.0}


def _tick_of(browser, text):
    """The WhatsApp tick state drawn on the chatter post holding `text`, if any."""
    for post in browser.find_elements(By.CSS_SELECTOR, ".o-mail-Message"):
        if text not in post.text:
            continue
        for state in ("queued", "sent", "delivered", "read", "failed"):
            if post.find_elements(By.CSS_SELECTOR, f".o_whatsapp_crm_tick_{state}"):
                return state
    return None


def _wait_for_tick(browser, text, state):
    try:
        _wait_for(lambda: _tick_of(browser, text) == state, timeout=60, interval=0.5)
    except AssertionError:
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / f"browser-lead-ticks-no-{state}.png"))
        shown = _tick_of(browser, text)
        raise AssertionError(f"tick {state!r} not shown; shown: {shown!r}") from None


def test_ticks_move_forward_without_a_reload(odoo, odoo_url, simulator, wa_account, browser):
    wa_id = _new_wa_id()
    simulator.customer_sends(wa_id, name="Tomás Ticks", type="text", text="¿Llegó?")
    conversation = _wait_for(lambda: odoo.call(
        "whatsapp.crm.conversation", "search_read",
        [("account_id", "=", wa_account), ("wa_id", "=", wa_id), ("lead_id", "!=", False)],
        ["lead_id"]))
    lead_id = conversation[0]["lead_id"][0]
    odoo.call("crm.lead", "write", [lead_id], {"user_id": odoo.uid})

    web_url = os.environ.get("WACRM_ODOO_GEVENT_URL") or odoo_url
    log_in(browser, web_url, odoo.db, odoo.login, odoo.password)
    browser.get(f"{web_url}/odoo/crm/{lead_id}")
    wait_for(browser, ".o-mail-Message")
    wait_for(browser, ".o-whatsapp-crm-ChatterButton", clickable=True).click()
    body = wait_for(browser, ".modal div[name='body'] textarea", clickable=True)
    text = "Sí, salió hoy."
    body.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, ".modal button[name='action_send']").click()
    # Meta accepted it: one grey tick (the simulator's statuses wait for its clock).
    _wait_for_tick(browser, text, "sent")
    page = browser.execute_script("return window.performance.timeOrigin")

    simulator.advance_clock(2 * STATUS_LATENCY)  # sent, then delivered
    _wait_for_tick(browser, text, "delivered")
    simulator.advance_clock(STATUS_LATENCY)  # read
    _wait_for_tick(browser, text, "read")
    assert browser.execute_script("return window.performance.timeOrigin") == page, \
        "the page was not reloaded"
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "browser-lead-ticks.png"))
