"""Fixtures for end-to-end tests against a running Odoo server.

`python3 tools/wacrm.py test` installs the addons into a throwaway database, starts
`odoo-bin --workers=2` on it and runs this folder with:

    WACRM_ODOO_URL       http://127.0.0.1:<port>
    WACRM_ODOO_DB        wacrm_test_<random>
    WACRM_ODOO_LOGIN     admin
    WACRM_ODOO_PASSWORD  admin
    WACRM_SECRET_KEY     the Fernet key the server encrypts secrets with
    ODOO_PATH            the Odoo 19.0 tree
    WACRM_ODOO_DATA_DIR  its data dir (a second server on the same database shares it)

Fixtures:
    odoo          OdooRpc logged in as admin (session scope)
    sim_account   wacrm_simulator Account with fresh ids and secrets, wired to Odoo's webhook
    simulator     a started in-process wacrm_simulator.Simulator serving sim_account (port 0)
    wa_account    id of a whatsapp.crm.account in Odoo pointing at that simulator
    browser       headless Debian Chromium (selenium), closed after the test
"""

from __future__ import annotations

import os
import secrets

import pytest

from tests.odoo_rpc import OdooRpc

ENV_VARS = ("WACRM_ODOO_URL", "WACRM_ODOO_DB", "WACRM_ODOO_LOGIN", "WACRM_ODOO_PASSWORD",
            "WACRM_SECRET_KEY")


@pytest.fixture(scope="session")
def wacrm_env() -> dict[str, str]:
    missing = [name for name in ENV_VARS if not os.environ.get(name)]
    if missing:
        pytest.fail(
            "integration tests need a running Odoo; missing environment variable(s) "
            f"{', '.join(missing)}. Run them with `python3 tools/wacrm.py test --only "
            "integration` (it starts a server on a throwaway database and sets them).",
            pytrace=False,
        )
    return {name: os.environ[name] for name in ENV_VARS}


@pytest.fixture(scope="session")
def odoo_url(wacrm_env) -> str:
    return wacrm_env["WACRM_ODOO_URL"].rstrip("/")


@pytest.fixture(scope="session")
def odoo(wacrm_env) -> OdooRpc:
    rpc = OdooRpc(wacrm_env["WACRM_ODOO_URL"], wacrm_env["WACRM_ODOO_DB"],
                  wacrm_env["WACRM_ODOO_LOGIN"], wacrm_env["WACRM_ODOO_PASSWORD"])
    rpc.authenticate()
    yield rpc
    rpc.close()


@pytest.fixture
def sim_account(odoo_url):
    """A simulator Account with ids no other test uses (tests share one database)."""
    from wacrm_simulator import Account  # lazily: the suite may not need the simulator

    suffix = f"{secrets.randbelow(10**9):09d}"
    return Account(
        waba_id=f"1000{suffix}",
        phone_number_id=f"2000{suffix}",
        display_phone_number=f"1555{suffix[-7:]}",
        access_token=f"it-token-{secrets.token_hex(12)}",
        app_secret=secrets.token_hex(16),
        webhook_url=f"{odoo_url}/whatsapp_crm/webhook",
    )


@pytest.fixture
def simulator_config_overrides() -> dict:
    """SimulatorConfig fields a test module wants changed (override this fixture)."""
    return {}


@pytest.fixture
def simulator(sim_account, simulator_config_overrides):
    """The Cloud API simulator, in-process on a free port, serving sim_account."""
    from wacrm_simulator import Simulator, SimulatorConfig

    sim = Simulator(SimulatorConfig(accounts=[sim_account], port=0,
                                    **simulator_config_overrides))
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def wa_account(odoo, sim_account, simulator) -> int:
    """A whatsapp.crm.account in Odoo talking to `simulator` with sim_account's secrets."""
    model = "whatsapp.crm.account"
    account_id = odoo.call(model, "create", {
        "name": f"Integration {sim_account.phone_number_id}",
        "waba_id": sim_account.waba_id,
        "phone_number_id": sim_account.phone_number_id,
        "display_phone_number": sim_account.display_phone_number,
        "api_base_url": simulator.base_url,
        "access_token": sim_account.access_token,
        "app_secret": sim_account.app_secret,
    })
    yield account_id
    odoo.call(model, "write", [account_id], {"active": False})


@pytest.fixture
def browser():
    """Headless Debian Chromium, closed after the test."""
    from tests.browser import new_browser  # lazily: only browser tests need selenium

    driver = new_browser()
    yield driver
    driver.quit()
