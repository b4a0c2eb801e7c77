"""The ``bench`` command: tests/benchmarks/bench_webhook.py against a throwaway server.

The server runs like production (``--workers=2``, two cron workers): the webhook only
stores and commits each event, the cron workers process it right after. Outbound
messages (with their chatter posts) are seeded through ``odoo-bin shell`` for the status
floods; then the scenarios run (existing customers, new customers, statuses, a latency
mix under a status flood, the bare route), and the status drain is measured once more
with a single cron worker, to show how processing scales with workers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
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

# Run by `odoo-bin shell`: outbound messages already sent, with their chatter posts, as a
# campaign leaves them; their statuses are what the floods bring.
SEED_SCRIPT = """
account = env["whatsapp.crm.account"].search([("phone_number_id", "=", {pnid!r})])
conversations = env["whatsapp.crm.conversation"].search(
    [("account_id", "=", account.id)], order="id")
assert conversations, "the warm-up created no conversation"
Message = env["whatsapp.crm.message"]
for prefix, count in {sets!r}:
    for start in range(0, count, 250):
        batch = Message.create([{{
            "account_id": account.id,
            "conversation_id": conversations[n % len(conversations)].id,
            "direction": "out", "message_type": "text", "state": "sent",
            "body": "Seeded campaign message", "wamid": f"{{prefix}}{{n:07d}}",
        }} for n in range(start, min(count, start + 250))])
        for message in batch:
            message._post_to_chatter()
        env.cr.commit()
print("seeded", sum(count for _prefix, count in {sets!r}))
"""


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


class BenchServer:
    """odoo-bin --workers=2 with ``cron`` cron workers on the bench database."""

    def __init__(self, odoo, db, data_dir, secret_key):
        self.odoo, self.db, self.data_dir, self.secret_key = odoo, db, data_dir, secret_key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.logs: list[tuple[Path, int]] = []  # each run's log and its cron workers

    def start(self, cron: int) -> None:
        say(f"== bench: odoo --workers=2 --max-cron-threads={cron} on {self.url}")
        log = ARTIFACTS / f"odoo-bench-{cron}cron.log"
        log.unlink(missing_ok=True)
        self.logs.append((log, cron))
        self.proc = spawn(self.odoo.command(
            self.db, f"--db-filter=^{self.db}$", "--workers=2", f"--max-cron-threads={cron}",
            f"--http-port={self.port}", "--http-interface=127.0.0.1",
            f"--gevent-port={free_port()}", f"--data-dir={self.data_dir}", "--log-level=warn",
            # the processes starting: see check_server_log
            "--log-handler=odoo.service.server:INFO"), log, env=odoo_env(self.secret_key))
        wait_http_ok(f"{self.url}/web/health", self.proc, log)

    def stop(self) -> None:
        stop(self.proc, "odoo server")
        self.proc = None

    def seed(self, sets: list[tuple[str, int]], pnid: str) -> None:
        say(f"== bench: seeding {sum(c for _, c in sets)} sent messages with chatter posts")
        script = SEED_SCRIPT.format(pnid=pnid, sets=sets)
        command = [sys.executable, str(self.odoo.bin), "shell", "-d", self.db,
                   f"--addons-path={self.odoo.addons_path}", "--no-http",
                   f"--data-dir={self.data_dir}", "--log-level=warn"]
        subprocess.run(command,
                       input=script, text=True, check=True, cwd=REPO,
                       env=odoo_env(self.secret_key), stdout=subprocess.DEVNULL)


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
    rc = 0
    try:
        install = run_odoo_tests(odoo, db, data_dir, secret_key, ["whatsapp_crm"], None,
                                 log_name="bench-install.log")
        if not install.ok:
            raise WacrmError(f"install failed: {install.note}")
        server = BenchServer(odoo, db, data_dir, secret_key)
        sim_port = free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        sim_log = ARTIFACTS / "simulator-bench.log"
        sim_log.unlink(missing_ok=True)
        server.start(cron=2)
        # the simulator stands in for the Graph API (media downloads, replies) during processing
        simulator = spawn(simulator_command(sim_port, f"{server.url}/whatsapp_crm/webhook",
                                            creds, "--quiet"), sim_log)
        wait_http_ok(f"{sim_url}/_sim/health", simulator, sim_log, timeout=30)
        configure_account(server.url, db, creds, sim_url, name="Benchmark (simulator)")
        base = [sys.executable, str(REPO / BENCH_SCRIPT),
                "--url", server.url, "--app-secret", creds["app_secret"],
                "--phone-number-id", creds["phone_number_id"], "--waba-id", creds["waba_id"],
                "--display-phone-number", creds["display_phone_number"],
                "--odoo-db", db, "--concurrency", str(args.concurrency),
                "--count", str(args.count), "--customers", str(args.customers),
                "--status-messages", str(args.status_messages),
                "--mix-messages", str(args.mix_messages),
                "--drain-timeout", str(args.drain_timeout)]
        say(f"== bench: {BENCH_SCRIPT} (warm-up)")
        rc = _run_teed([*base, "--scenarios", "existing", "--count", "1"],
                       ARTIFACTS / "bench-warmup.txt")
        sets = [("wamid.SEEDA", args.status_messages), ("wamid.SEEDB", args.mix_messages),
                ("wamid.SEEDC", args.status_messages)]
        server.seed(sets, creds["phone_number_id"])
        runs = [("2 cron workers", ["--scenarios", "existing,new,statuses,mix",
                                    "--status-prefix", "wamid.SEEDA",
                                    "--mix-prefix", "wamid.SEEDB"]),
                ("1 cron worker", ["--scenarios", "statuses", "--status-prefix",
                                   "wamid.SEEDC"])]
        figures = {}
        for label, extra in runs:
            if label.startswith("1"):
                server.stop()
                server.start(cron=1)
            out = ARTIFACTS / f"bench-{label.split()[0]}cron.json"
            say(f"== bench: {BENCH_SCRIPT} ({label})")
            rc = _run_teed([*base, *extra, "--label", label, "--json", str(out)],
                           ARTIFACTS / f"bench-{label.split()[0]}cron.txt") or rc
            if out.exists():
                figures[label] = json.loads(out.read_text(encoding="utf-8"))["results"]
        summary = summarize(figures)
        (ARTIFACTS / "bench.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
        (ARTIFACTS / "bench.txt").write_text(summary, encoding="utf-8")
        say(summary)
    finally:
        stop(simulator, "simulator", timeout=10)
        if server is not None:
            server.stop()
        drop_or_keep(db, data_dir, args.keep_db)
    for log, cron in server.logs if server else []:
        rc = check_server_log(log, rc, workers=2, cron_workers=cron)
    return rc


def summarize(figures: dict) -> str:
    """The issue's table: the goals next to what this run measured."""
    two, one = figures.get("2 cron workers", {}), figures.get("1 cron worker", {})

    def get(run, *keys):
        for key in keys:
            run = (run or {}).get(key) if isinstance(run, dict) else None
        return run

    health = get(two, "statuses", "health", "per_second")
    ack = get(two, "statuses", "ack", "per_second")
    lines = ["", "figure                                              measured      goal",
             "-" * 72]

    def row(name, value, goal):
        lines.append(f"{name:<52}{value!s:>10}      {goal}")

    ratio = f"{ack / health:.2f}x" if ack and health else "-"
    row(f"status acks/s vs GET /web/health ({ack} vs {health})", ratio, ">= 0.8x")
    row("statuses applied/s (2 cron workers)", get(two, "statuses", "drain", "per_second"),
        ">= 300/s")
    row("statuses applied/s (1 cron worker)", get(one, "statuses", "drain", "per_second"),
        "reported")
    row("inbound, existing customers, processed/s", get(two, "existing", "drain", "per_second"),
        ">= 50/s")
    row("inbound, new customers, processed/s", get(two, "new", "drain", "per_second"),
        ">= 20/s")
    row("POST -> stored p95, quiet (s)", get(two, "mix", "quiet", "p95_s"), "<= 1 s")
    row("POST -> stored p95, under a status flood (s)", get(two, "mix", "under_flood", "p95_s"),
        "<= 1 s")
    return "\n".join(lines) + "\n"


def check_server_log(log_path: Path, rc: int, workers: int, cron_workers: int) -> int:
    """rc, or 1 when the server logged tracebacks or restarted its processes in a loop:
    the figures of a server in trouble are not worth keeping."""
    verdict = SuiteResult("bench")
    ServerLogWatch(log_path, "odoo server", workers, cron_workers).judge(verdict)
    if not verdict.ok:
        say(f"error: {verdict.note}")
        return rc or 1
    return rc
