"""Screenshot of a lead that a WhatsApp customer wrote to, for the README and the addons.

Run it against the demo (`make run`) once a few scripted customers have written:

    python3 tools/screenshot_lead.py --url http://127.0.0.1:8069 --db wacrm_demo \
        --out docs/screenshot-lead.png

It drives Debian's Chromium through chromedriver (selenium), headless, on loopback only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser import log_in, new_browser, wait_for  # noqa: E402
from tests.odoo_rpc import OdooRpc  # noqa: E402


def busiest_whatsapp_lead(rpc: OdooRpc) -> int:
    conversations = rpc.call(
        "whatsapp.crm.conversation", "search_read", [("lead_id", "!=", False)],
        ["lead_id"], order="last_message_at desc", limit=20)
    if not conversations:
        raise SystemExit("no lead has a WhatsApp conversation yet: let the demo run a minute")
    return conversations[0]["lead_id"][0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="wacrm_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", action="append", required=True,
                        help="PNG path; repeat to write several copies")
    args = parser.parse_args(argv)

    rpc = OdooRpc(args.url, args.db, args.login, args.password)
    rpc.authenticate()
    lead_id = busiest_whatsapp_lead(rpc)
    browser = new_browser()
    try:
        log_in(browser, args.url, args.db, args.login, args.password)
        browser.get(f"{args.url}/odoo/crm/{lead_id}")
        wait_for(browser, ".o-mail-Message .o_whatsapp_crm_ticks")
        time.sleep(1)  # let images and avatars finish painting; not a timing assertion
        png = browser.get_screenshot_as_png()
    finally:
        browser.quit()
    for out in args.out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_bytes(png)
        print(f"wrote {out} (lead {lead_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
