"""Two Odoo servers on one database, as behind a load balancer: one webhook flood split
across both, every payload delivered twice (once to each server, at the same time).

Exactly one message per wamid, one conversation (and one contact) per customer, and
every outbound message ends `read`; no event is left pending or in error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.integration.test_inbound_live import _new_wa_id, _wait_for

REPO = Path(__file__).resolve().parents[2]
CUSTOMERS = 30
MESSAGES_PER_CUSTOMER = 3
OUTBOUND = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def second_server(wacrm_env):
    """Another odoo-bin --workers=2 with a cron worker, on the same database."""
    odoo_path = os.environ.get("ODOO_PATH")
    if not odoo_path:
        pytest.fail("ODOO_PATH is not set: the second server cannot be started", pytrace=False)
    port = _free_port()
    db = wacrm_env["WACRM_ODOO_DB"]
    data_dir = os.environ.get("WACRM_ODOO_DATA_DIR")
    log_path = REPO / "artifacts" / "odoo-server-2.log"
    log_path.parent.mkdir(exist_ok=True)
    cmd = [sys.executable, f"{odoo_path}/odoo-bin", "-d", db,
           f"--addons-path={odoo_path}/addons,{odoo_path}/odoo/addons,{REPO}",
           f"--db-filter=^{db}$", "--workers=2", "--max-cron-threads=1",
           f"--http-port={port}", "--http-interface=127.0.0.1",
           f"--gevent-port={_free_port()}", "--log-level=info",
           *([f"--data-dir={data_dir}"] if data_dir else [])]
    env = dict(os.environ, WHATSAPP_CRM_SECRET_KEY=wacrm_env["WACRM_SECRET_KEY"])
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=REPO, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _healthy(url), timeout=60)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/web/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _envelope(sim_account, value: dict) -> bytes:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": sim_account.display_phone_number,
                          "phone_number_id": sim_account.phone_number_id}, **value}
    return json.dumps({"object": "whatsapp_business_account", "entry": [
        {"id": sim_account.waba_id, "changes": [{"field": "messages", "value": value}]}]},
        separators=(",", ":")).encode()


def test_two_servers_one_database(odoo, odoo_url, sim_account, wa_account, second_server):
    second_url, second_log = second_server
    run = f"{time.time_ns() % 10**9:09d}"
    customers = [_new_wa_id() for _ in range(CUSTOMERS)]
    bodies = []
    for n in range(MESSAGES_PER_CUSTOMER):
        for index, wa_id in enumerate(customers):
            bodies.append(_envelope(sim_account, {
                "contacts": [{"profile": {"name": f"Cliente {index}"}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": f"wamid.TWO{run}{index:03d}{n}",
                              "timestamp": str(int(time.time())), "type": "text",
                              "text": {"body": f"mensaje {n}"}}]}))
    # Outbound messages already sent, whose statuses come back through both servers.
    first = odoo.call("whatsapp.crm.conversation", "search",
                      [("account_id", "=", wa_account)], limit=1)
    if not first:  # the account's first customer writes once, so a conversation exists
        requests.post(f"{odoo_url}/whatsapp_crm/webhook", data=bodies[0], headers=_signed(
            sim_account, bodies[0]), timeout=30)
        first = _wait_for(lambda: odoo.call("whatsapp.crm.conversation", "search",
                                            [("account_id", "=", wa_account)], limit=1))
    outbound = [f"wamid.TWOOUT{run}{n:04d}" for n in range(OUTBOUND)]
    odoo.call("whatsapp.crm.message", "create", [{
        "account_id": wa_account, "conversation_id": first[0], "direction": "out",
        "message_type": "text", "state": "sent", "body": "campaign", "wamid": wamid,
    } for wamid in outbound])
    for status in ("delivered", "read"):
        bodies += [_envelope(sim_account, {"statuses": [{
            "id": wamid, "status": status, "timestamp": str(int(time.time())),
            "recipient_id": customers[0]}]}) for wamid in outbound]

    answers, lock = [], threading.Lock()

    def deliver(body: bytes) -> None:
        # The same payload to both servers at once: Meta retries, proxies duplicate.
        barrier = threading.Barrier(2)

        def post(url: str) -> None:
            barrier.wait()
            response = requests.post(f"{url}/whatsapp_crm/webhook", data=body,
                                     headers=_signed(sim_account, body), timeout=60)
            with lock:
                answers.append(response.status_code)

        with ThreadPoolExecutor(2) as pair:
            list(pair.map(post, (odoo_url, second_url)))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(deliver, bodies))
    assert set(answers) == {200} and len(answers) == 2 * len(bodies)

    inbound_ids = [f"wamid.TWO{run}{i:03d}{n}" for i in range(CUSTOMERS)
                   for n in range(MESSAGES_PER_CUSTOMER)]
    _wait_for(lambda: odoo.call("whatsapp.crm.message", "search_count",
                                [("wamid", "in", inbound_ids)]) == len(inbound_ids),
              timeout=120)
    _wait_for(lambda: odoo.call("whatsapp.crm.message", "search_count",
                                [("wamid", "in", outbound), ("state", "=", "read")])
              == OUTBOUND, timeout=120)
    # Exactly one of each.
    found = odoo.call("whatsapp.crm.message", "search_read", [("wamid", "in", inbound_ids)],
                      ["wamid"])
    assert sorted(m["wamid"] for m in found) == sorted(inbound_ids)
    conversations = odoo.call("whatsapp.crm.conversation", "search_read",
                              [("account_id", "=", wa_account), ("wa_id", "in", customers)],
                              ["wa_id", "partner_id"])
    assert sorted(c["wa_id"] for c in conversations) == sorted(customers)
    assert len({c["partner_id"][0] for c in conversations}) == CUSTOMERS
    assert odoo.call("res.partner", "search_count",
                     [("whatsapp_wa_id", "in", customers)]) == CUSTOMERS
    statuses = odoo.call("whatsapp.crm.message.status", "search_count",
                         [("wamid", "in", outbound)])
    assert statuses == 2 * OUTBOUND  # delivered and read, each recorded once
    _wait_for(lambda: not odoo.call("whatsapp.crm.webhook.event", "search_count",
                                    [("account_id", "=", wa_account),
                                     ("state", "in", ["pending", "error"])]), timeout=60)
    assert "Traceback" not in second_log.read_text(encoding="utf-8", errors="replace")


def _signed(sim_account, body: bytes) -> dict:
    digest = hmac.new(sim_account.app_secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
