"""Where things are in the repository, the addons of the suite, errors and printing."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# tests.odoo_rpc (the JSON-RPC client shared with the integration tests) is imported
# from the repository root.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ADDONS = ("whatsapp_crm", "whatsapp_crm_campaigns", "whatsapp_crm_ai")
ARTIFACTS = REPO / "artifacts"  # logs, junit files, bench.txt; ignored by git
STATE_DIR = REPO / ".wacrm"  # the demo's key, credentials and data dir; ignored by git


class WacrmError(Exception):
    """A failure explained to the user in one message; main() prints it and exits."""

    exit_code = 1


class OdooMissing(WacrmError):
    exit_code = 2  # distinct, so CI can tell "no Odoo here" from a failing suite


def say(message: str = "") -> None:
    # flushed: our output interleaves with the children's, which write straight to the tty
    print(message, flush=True)


def present_addons() -> list[str]:
    """The addons of the suite that this checkout has, in dependency order."""
    return [name for name in ADDONS if (REPO / name / "__manifest__.py").is_file()]
