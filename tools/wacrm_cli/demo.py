"""The ``run`` command: the demo database, Odoo on a fixed port, scripted simulator customers."""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import socket
import time
from pathlib import Path

from .odoo import (
    ODOO_TEST_TIMEOUT,
    fernet_key,
    find_odoo,
    module_states,
    odoo_env,
    pg_available,
    pg_db_exists,
    pg_drop,
)
from .odoo_log import parse_odoo_log
from .processes import free_port, log_tail, run_with_progress, spawn, stop, wait_http_ok
from .project import ARTIFACTS, STATE_DIR, WacrmError, present_addons, say
from .simulator import configure_account, simulator_command
from .testing import ServerLogWatch, SuiteResult

DEMO_DB = "wacrm_demo"


def _load_or_create_json(path: Path, factory) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    data = factory()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.chmod(0o600)
    return data


def demo_state() -> tuple[str, dict]:
    """The demo's encryption key and credentials, generated once and kept in .wacrm/.

    Kept, not regenerated: the database holds secrets encrypted with that key.
    """
    STATE_DIR.mkdir(exist_ok=True)
    key_file = STATE_DIR / "secret.key"
    if not key_file.is_file():
        key_file.write_text(fernet_key() + "\n")
        key_file.chmod(0o600)
    secret_key = key_file.read_text().strip()
    creds = _load_or_create_json(STATE_DIR / "demo.json", lambda: {
        "waba_id": "100000000000001",
        "phone_number_id": "200000000000002",
        "display_phone_number": "15550001111",
        "access_token": "demo-token-" + secrets.token_hex(16),
        "app_secret": secrets.token_hex(16),
        "verify_token": secrets.token_urlsafe(18),
    })
    return secret_key, creds


def cmd_run(args: argparse.Namespace) -> int:
    odoo = find_odoo()
    pg_available()
    addons = present_addons()
    if "whatsapp_crm" not in addons:
        raise WacrmError("whatsapp_crm is missing from the repository")
    secret_key, creds = demo_state()
    data_dir = STATE_DIR / "data"
    ARTIFACTS.mkdir(exist_ok=True)
    env = odoo_env(secret_key)

    if args.reset and pg_db_exists(DEMO_DB):
        say(f"dropping {DEMO_DB}")
        pg_drop(DEMO_DB)
        shutil.rmtree(data_dir / "filestore" / DEMO_DB, ignore_errors=True)
    missing = addons
    if pg_db_exists(DEMO_DB):
        states = module_states(DEMO_DB, addons)
        missing = [a for a in addons if states.get(a) != "installed"]
    # A demo database made by an older checkout is upgraded to the code at hand.
    if missing:
        mode = ("-i", ",".join(missing), "--with-demo")
        say(f"installing {', '.join(missing)} with demo data into {DEMO_DB} (about a minute)")
    else:
        mode = ("-u", ",".join(addons))
        say(f"updating {', '.join(addons)} in {DEMO_DB}")
    log_path = ARTIFACTS / "demo-install.log"
    log_path.unlink(missing_ok=True)
    say(f"   log: {log_path}")
    proc = spawn(odoo.command(DEMO_DB, *mode,
                              "--stop-after-init", f"--data-dir={data_dir}",
                              f"--http-port={free_port()}", f"--gevent-port={free_port()}",
                              "--http-interface=127.0.0.1"), log_path, env=env)
    try:
        rc = run_with_progress(proc, log_path, "install", ODOO_TEST_TIMEOUT)
    finally:
        stop(proc, "install")
    states = module_states(DEMO_DB, addons)
    if rc != 0 or any(states.get(a) != "installed" for a in addons):
        raise WacrmError(f"installing the demo failed (exit code {rc}); last log lines:\n"
                         f"{log_tail(log_path)}\nTry again with --reset.")
    install_report = parse_odoo_log(log_path.read_text(errors="replace"))
    if install_report.tracebacks:
        say(f"!! the install logged {install_report.traceback_summary()} (see {log_path})")

    odoo_url = f"http://127.0.0.1:{args.port}"
    sim_url = f"http://127.0.0.1:{args.sim_port}"
    for port in (args.port, args.sim_port):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                raise WacrmError(f"port {port} is already in use (see --port / --sim-port)")
    server = simulator = None
    odoo_log = ARTIFACTS / "odoo-demo.log"
    sim_log = ARTIFACTS / "simulator-demo.log"
    odoo_log.unlink(missing_ok=True)
    # a threaded server (no --workers): tracebacks are said as they come, and make the
    # demo end with an error; there are no processes to restart
    watch = ServerLogWatch(odoo_log, "Odoo", workers=0, cron_workers=0)
    try:
        say(f"starting Odoo on {odoo_url} (log: {odoo_log})")
        server = spawn(odoo.command(DEMO_DB, f"--db-filter=^{DEMO_DB}$",
                                    f"--http-port={args.port}", "--http-interface=127.0.0.1",
                                    f"--gevent-port={free_port()}", f"--data-dir={data_dir}"),
                       odoo_log, env=env)
        wait_http_ok(f"{odoo_url}/web/health", server, odoo_log)
        account_id = configure_account(odoo_url, DEMO_DB, creds, sim_url)
        say(f"account {account_id} \"Demo (simulator)\" points at the simulator {sim_url}")
        say(f"starting the simulator on {sim_url} (log: {sim_log})")
        simulator = spawn(simulator_command(args.sim_port, f"{odoo_url}/whatsapp_crm/webhook",
                                            creds, "--script", "demo",
                                            "--script-interval", str(args.interval)), sim_log)
        wait_http_ok(f"{sim_url}/_sim/health", simulator, sim_log, timeout=30)
        say("")
        say(f"Open http://localhost:{args.port} — login admin / admin; customers write in "
            f"every {args.interval:g} seconds")
        say("Press Ctrl-C to stop.")
        # the demo runs until Ctrl-C, or until one of its two processes dies
        while True:
            for proc, label, log in ((server, "Odoo", odoo_log), (simulator, "simulator", sim_log)):
                if proc.poll() is not None:
                    raise WacrmError(f"{label} exited with code {proc.returncode}; last log "
                                     f"lines:\n{log_tail(log)}")
            watch.poll()
            time.sleep(1)
    except KeyboardInterrupt:
        say("\nstopping…")
    finally:
        stop(simulator, "simulator", timeout=10)
        stop(server, "Odoo")
    verdict = SuiteResult("demo")
    watch.judge(verdict)
    if not verdict.ok:
        say(f"error: {verdict.note}")
        return 1
    return 0
