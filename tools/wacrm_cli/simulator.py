"""The Cloud API simulator's command line, and the Odoo account that talks to it.

Shared by ``run`` (the demo) and ``bench``: both start the simulator next to Odoo
and point a ``whatsapp.crm.account`` at it with the same credentials.
"""

from __future__ import annotations

import sys

from . import project  # noqa: F401  (importing it puts the repository root on sys.path)


def configure_account(url: str, db: str, creds: dict, api_base_url: str,
                      name: str = "Demo (simulator)") -> int:
    """Create or update the account of creds["phone_number_id"]; return its id."""
    from tests.odoo_rpc import OdooRpc

    rpc = OdooRpc(url, db, "admin", "admin")
    vals = {
        "name": name,
        "waba_id": creds["waba_id"],
        "phone_number_id": creds["phone_number_id"],
        "display_phone_number": creds["display_phone_number"],
        "api_base_url": api_base_url,
        "access_token": creds["access_token"],
        "app_secret": creds["app_secret"],
        "verify_token": creds["verify_token"],
    }
    model = "whatsapp.crm.account"
    ids = rpc.call(model, "search", [("phone_number_id", "=", creds["phone_number_id"])],
                   limit=1)
    if ids:
        rpc.call(model, "write", ids, vals)
        return ids[0]
    return rpc.call(model, "create", vals)


def simulator_command(port: int, webhook_url: str, creds: dict, *extra: str) -> list[str]:
    return [sys.executable, "-m", "wacrm_simulator", "--host", "127.0.0.1", "--port", str(port),
            "--webhook-url", webhook_url, "--app-secret", creds["app_secret"],
            "--access-token", creds["access_token"],
            "--phone-number-id", creds["phone_number_id"], "--waba-id", creds["waba_id"],
            "--display-phone-number", creds["display_phone_number"], *extra]
