"""The ``bench`` command: a throwaway server flooded by tests/benchmarks/bench_webhook.py.

The server runs like production (``--workers=2`` and a cron worker): the webhook only
stores and commits each event, and the cron worker processes it right after, so
bench_webhook.py also measures how long that processing takes to drain (over
JSON-RPC, as admin).
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from .odoo import fernet_key, find_odoo, odoo_env, pg_available
from .processes import free_port, spawn, stop, wait_http_ok
from .project import ARTIFACTS, REPO, WacrmError, say
from .simulator import configure_account, simulator_command
from .testing import ServerLogWatch, SuiteResult, drop_or_keep, run_odoo_tests

BENCH_SCRIPT = "tests/benchmarks/bench_webhook.py"


def _run_teed(cmd: list[str], copy_path: Path) -> int:
    """Run cmd, echoing its stdout live (the drain wait can take minutes) and into copy_path."""
    with open(copy_path, "w", encoding="utf-8") as copy, \
            subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True) as proc:
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                sys.stdout.flush()
                copy.write(line)
            return proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: do not leave it flooding the server
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
                proc.kill()


def cmd_bench(args: argparse.Namespace) -> int:
    odoo = find_odoo()
    pg_available()
    db = f"wacrm_bench_{secrets.token_hex(4)}"
    data_dir = Path(tempfile.mkdtemp(prefix=f"{db}-"))
    secret_key = fernet_key()
    creds = {
        "waba_id": "100000000000009",
        "phone_number_id": "200000000000009",
        "display_phone_number": "15550009999",
        "access_token": "bench-token-" + secrets.token_hex(8),
        "app_secret": secrets.token_hex(16),
        "verify_token": secrets.token_urlsafe(12),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    server = simulator = None
    try:
        install = run_odoo_tests(odoo, db, data_dir, secret_key, ["whatsapp_crm"], None,
                                 log_name="bench-install.log")
        if not install.ok:
            raise WacrmError(f"install failed: {install.note}")
        port, sim_port = free_port(), free_port()
        odoo_url, sim_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sim_port}"
        odoo_log, sim_log = ARTIFACTS / "odoo-bench.log", ARTIFACTS / "simulator-bench.log"
        odoo_log.unlink(missing_ok=True)
        sim_log.unlink(missing_ok=True)
        say(f"== bench: odoo --workers=2 --max-cron-threads=1 on {odoo_url}")
        server = spawn(odoo.command(db, f"--db-filter=^{db}$", "--workers=2",
                                    "--max-cron-threads=1", f"--http-port={port}",
                                    "--http-interface=127.0.0.1", f"--gevent-port={free_port()}",
                                    f"--data-dir={data_dir}", "--log-level=warn",
                                    # the processes starting: see check_server_log
                                    "--log-handler=odoo.service.server:INFO"),
                       odoo_log, env=odoo_env(secret_key))
        # the simulator stands in for the Graph API (media downloads, replies) during processing
        simulator = spawn(simulator_command(sim_port, f"{odoo_url}/whatsapp_crm/webhook", creds,
                                            "--quiet"),
                          sim_log)
        wait_http_ok(f"{odoo_url}/web/health", server, odoo_log)
        wait_http_ok(f"{sim_url}/_sim/health", simulator, sim_log, timeout=30)
        configure_account(odoo_url, db, creds, sim_url, name="Benchmark (simulator)")
        cmd = [sys.executable, str(REPO / BENCH_SCRIPT),
               "--url", odoo_url, "--app-secret", creds["app_secret"],
               "--phone-number-id", creds["phone_number_id"], "--waba-id", creds["waba_id"],
               "--display-phone-number", creds["display_phone_number"],
               "--count", str(args.count), "--concurrency", str(args.concurrency),
               "--customers", str(args.customers),
               "--odoo-db", db, "--odoo-login", "admin", "--odoo-password", "admin",
               "--drain-timeout", str(args.drain_timeout)]
        say(f"== bench: {BENCH_SCRIPT}")
        rc = _run_teed(cmd, ARTIFACTS / "bench.txt")
    finally:
        stop(simulator, "simulator", timeout=10)
        stop(server, "odoo server")
        drop_or_keep(db, data_dir, args.keep_db)
    return check_server_log(odoo_log, rc, workers=2, cron_workers=1)


def check_server_log(log_path: Path, rc: int, workers: int, cron_workers: int) -> int:
    """rc, or 1 when the server logged tracebacks or restarted its processes in a loop:
    the figures of a server in trouble are not worth keeping."""
    verdict = SuiteResult("bench")
    ServerLogWatch(log_path, "odoo server", workers, cron_workers).judge(verdict)
    if not verdict.ok:
        say(f"error: {verdict.note}")
        return rc or 1
    return rc
