"""The ``bench-reports`` command: tests/benchmarks/bench_reports.py on a throwaway server.

Installs whatsapp_crm in a new database, starts ``odoo-bin --workers=2`` on it (no cron
worker, so that nothing else runs during the measures), lets the script bulk-load
200,000 messages and time the screens and reports over JSON-RPC, then drops it.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

from .bench import _run_teed, check_server_log
from .odoo import fernet_key, find_odoo, odoo_env, pg_available
from .processes import free_port, spawn, stop, wait_http_ok
from .project import ARTIFACTS, REPO, WacrmError, say
from .testing import drop_or_keep, run_odoo_tests

BENCH_SCRIPT = "tests/benchmarks/bench_reports.py"


def cmd_bench_reports(args: argparse.Namespace) -> int:
    odoo = find_odoo()
    pg_available()
    db = f"wa_report_bench_{secrets.token_hex(4)}"
    data_dir = Path(tempfile.mkdtemp(prefix=f"{db}-"))
    secret_key = fernet_key()
    ARTIFACTS.mkdir(exist_ok=True)
    server = None
    try:
        install = run_odoo_tests(odoo, db, data_dir, secret_key, ["whatsapp_crm"], None,
                                 log_name="bench-reports-install.log")
        if not install.ok:
            raise WacrmError(f"install failed: {install.note}")
        port = free_port()
        odoo_url = f"http://127.0.0.1:{port}"
        odoo_log = ARTIFACTS / "odoo-bench-reports.log"
        odoo_log.unlink(missing_ok=True)
        say(f"== bench-reports: odoo --workers=2 on {odoo_url}")
        server = spawn(odoo.command(db, f"--db-filter=^{db}$", "--workers=2",
                                    "--max-cron-threads=0", f"--http-port={port}",
                                    "--http-interface=127.0.0.1", f"--gevent-port={free_port()}",
                                    f"--data-dir={data_dir}", "--log-level=warn",
                                    # the processes starting: see check_server_log
                                    "--log-handler=odoo.service.server:INFO",
                                    "--limit-time-real=600", "--limit-time-cpu=600"),
                       odoo_log, env=odoo_env(secret_key))
        wait_http_ok(f"{odoo_url}/web/health", server, odoo_log)
        cmd = [sys.executable, str(REPO / BENCH_SCRIPT), "--url", odoo_url, "--db", db,
               "--login", "admin", "--password", "admin",
               "--conversations", str(args.conversations), "--messages", str(args.messages),
               "--big", str(args.big), "--runs", str(args.runs)]
        say(f"== bench-reports: {BENCH_SCRIPT}")
        rc = _run_teed(cmd, ARTIFACTS / "bench-reports.txt")
    finally:
        stop(server, "odoo server")
        drop_or_keep(db, data_dir, args.keep_db)
    return check_server_log(odoo_log, rc, workers=2, cron_workers=0)
