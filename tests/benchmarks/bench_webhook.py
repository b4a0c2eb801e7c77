#!/usr/bin/env python3
"""Flood the WhatsApp webhook of a local Odoo with signed inbound text messages.

Not a test: `python3 tools/wacrm.py bench` (or `make bench`) starts a throwaway
server and runs this against it. Run by hand against any Odoo on this machine:

    python3 tests/benchmarks/bench_webhook.py --url http://127.0.0.1:8069 \
        --app-secret SECRET --phone-number-id 200000000000002 --waba-id 100000000000001 \
        --display-phone-number 15550001111 --count 1000 --concurrency 16 --customers 500 \
        --odoo-db wacrm_demo --odoo-login admin --odoo-password admin

Each POST is a Meta-shaped `messages` webhook with one text message from one of
`--customers` senders, a unique wamid, and `X-Hub-Signature-256: sha256=<hex>` over
the raw bytes. Then the bare route GET /web/health is flooded the same way, as the
ceiling to compare with.

The webhook answers 200 once the event is stored; Odoo's cron worker turns it into a
`whatsapp.crm.message` right after. With `--odoo-db` (and a login), the drain of that
processing is measured between the two floods: the benchmark account's messages of
this run are counted over JSON-RPC until all of them are there (at most
`--drain-timeout` seconds). Loopback addresses only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

# tests.odoo_rpc, from the repository root, when run as `python3 tests/benchmarks/...`
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.odoo_rpc import OdooRpc, OdooRpcError

WEBHOOK_PATH = "/whatsapp_crm/webhook"
HEALTH_PATH = "/web/health"
MAX_COUNT = 100_000
MAX_CONCURRENCY = 256
DRAIN_POLL_S = 0.25  # resolution of the drain timings; each poll is one cheap search_count
WARMUP_DRAIN_S = 120  # the warm-up's messages are awaited this long before the flood


@dataclass
class RouteStats:
    route: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    not_sent: int = 0
    elapsed_s: float = 0.0
    started_at: float = 0.0  # time.monotonic() when the first request went out
    last_answer_at: float = 0.0  # time.monotonic() of the last answer received

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, pct: float) -> float:
        """Nearest-rank percentile of the latencies, in ms."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if not host:
        raise SystemExit(f"bench_webhook: no host in --url {url!r}")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise SystemExit(f"bench_webhook: cannot resolve {host}: {exc}") from exc
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
            raise SystemExit(f"bench_webhook: refusing {host} ({address}): loopback only")


def customer_wa_id(index: int) -> str:
    # Brazilian mobiles, 13 digits: 55 11 9XXXX-XXXX
    return f"55119{index:08d}"


def wamid_prefix(run_id: str, phase: str) -> str:
    """Prefix of the wamids of one phase of a run ("W" warm-up, "M" measured).

    Distinct per phase, so the drain counts exactly the measured messages.
    """
    return f"wamid.BENCH{run_id}{phase}"


def inbound_text(args: argparse.Namespace, prefix: str, seq: int) -> dict:
    customer = seq % args.customers
    wa_id = customer_wa_id(customer)
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": args.waba_id,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": args.display_phone_number,
                        "phone_number_id": args.phone_number_id,
                    },
                    "contacts": [{"profile": {"name": f"Bench Customer {customer}"},
                                  "wa_id": wa_id}],
                    "messages": [{
                        "from": wa_id,
                        "id": f"{prefix}{seq:08d}",
                        "timestamp": str(int(time.time())),
                        "type": "text",
                        "text": {"body": f"Benchmark message {seq} from customer {customer}"},
                    }],
                },
            }],
        }],
    }


def signed_request(args: argparse.Namespace, prefix: str, seq: int) -> tuple[bytes, dict]:
    body = json.dumps(inbound_text(args, prefix, seq), separators=(",", ":")).encode()
    digest = hmac.new(args.app_secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


def flood(route: str, count: int, concurrency: int, max_seconds: float, timeout: float,
          send: Callable[[requests.Session, int], requests.Response]) -> RouteStats:
    stats = RouteStats(route)
    lock = threading.Lock()
    local = threading.local()
    deadline = time.monotonic() + max_seconds

    def one(seq: int) -> None:
        if time.monotonic() > deadline:
            with lock:
                stats.not_sent += 1
            return
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        started = time.perf_counter()
        try:
            status = send(session, seq).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        latency = (time.perf_counter() - started) * 1000
        answered = time.monotonic()
        with lock:
            stats.last_answer_at = max(stats.last_answer_at, answered)
            stats.latencies_ms.append(latency)
            stats.statuses[status] += 1
            if status != 200:
                stats.errors += 1

    started = stats.started_at = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(one, seq) for seq in range(count)]:
            future.result()
    stats.elapsed_s = time.monotonic() - started
    return stats


@dataclass
class DrainStats:
    """How the messages of one phase came to be stored, as seen by polling their count."""

    expected: int
    stored: int = 0
    done_at: float | None = None  # time.monotonic() of the first poll that saw them all
    error: str = ""

    @property
    def complete(self) -> bool:
        return self.done_at is not None


def connect_odoo(args: argparse.Namespace) -> tuple[OdooRpc, int]:
    """Log in over JSON-RPC and find the account the benchmark writes to."""
    rpc = OdooRpc(args.url, args.odoo_db, args.odoo_login, args.odoo_password, timeout=30)
    try:
        ids = rpc.call("whatsapp.crm.account", "search",
                       [("phone_number_id", "=", args.phone_number_id)], limit=1)
    except (requests.RequestException, OdooRpcError) as exc:
        raise SystemExit(f"bench_webhook: JSON-RPC on {args.odoo_db} failed: {exc}") from exc
    if not ids:
        raise SystemExit(f"bench_webhook: no whatsapp.crm.account with phone_number_id "
                         f"{args.phone_number_id} in {args.odoo_db}")
    return rpc, ids[0]


def wait_for_messages(rpc: OdooRpc, account_id: int, prefix: str, expected: int,
                      timeout: float, label: str) -> DrainStats:
    """Poll the count of the account's messages with wamids starting with prefix.

    Returns when it reaches expected, after timeout seconds, or after 20 failed
    polls in a row (a server that stopped answering).
    """
    drain = DrainStats(expected)
    domain = [("account_id", "=", account_id), ("wamid", "=like", f"{prefix}%")]
    deadline = time.monotonic() + timeout
    next_report = time.monotonic() + 10
    failures = 0
    while True:
        polled_at = time.monotonic()
        try:
            drain.stored = rpc.call("whatsapp.crm.message", "search_count", domain)
            failures = 0
        except (requests.RequestException, OdooRpcError) as exc:
            failures += 1
            drain.error = f"JSON-RPC failed: {exc}"
            if failures >= 20:
                return drain
        if drain.stored >= expected:
            # the count was read just after polled_at: the true end is within one poll before
            drain.done_at = polled_at
            drain.error = ""
            return drain
        now = time.monotonic()
        if now >= deadline:
            return drain
        if now >= next_report:
            print(f"   … {label}: {drain.stored}/{expected} messages stored", flush=True)
            next_report = now + 10
        time.sleep(min(DRAIN_POLL_S, max(deadline - now, 0)))


def print_drain(webhook: RouteStats, drain: DrainStats, timeout: float) -> None:
    if not drain.complete:
        reason = drain.error or f"not all stored within {timeout:g} s"
        print(f"messages processed: {drain.stored} of {drain.expected} ({reason})")
        return
    total_s = drain.done_at - webhook.started_at
    rate = drain.expected / total_s if total_s > 0 else float("inf")
    lag_s = max(drain.done_at - webhook.last_answer_at, 0.0)
    print(f"messages processed: {drain.expected} in {total_s:.1f} s = {rate:.1f} msg/s "
          f"(first POST sent to last message stored)")
    print(f"last message stored {lag_s:.2f} s after the last POST was answered "
          f"(polled every {DRAIN_POLL_S:g} s)")


def print_table(rows: list[RouteStats]) -> None:
    header = f"{'route':<28} {'requests':>8} {'errors':>7} {'req/s':>8} " \
             f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.route:<28} {row.requests:>8} {row.errors:>7} {row.rate:>8.1f} "
              f"{row.percentile(50):>8.1f} {row.percentile(95):>8.1f} {row.percentile(99):>8.1f}")
    for row in rows:
        other = {k: v for k, v in row.statuses.items() if k != 200}
        if other:
            print(f"{row.route}: non-200 answers {dict(other)}")
        if row.not_sent:
            print(f"{row.route}: {row.not_sent} requests not sent (time limit reached)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="Odoo base URL (loopback only)")
    parser.add_argument("--app-secret", required=True)
    parser.add_argument("--phone-number-id", required=True)
    parser.add_argument("--waba-id", required=True)
    parser.add_argument("--display-phone-number", required=True)
    parser.add_argument("--count", type=int, default=1000, help="requests per route (1000)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads (16)")
    parser.add_argument("--customers", type=int, default=500, help="distinct senders (500)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first (20)")
    parser.add_argument("--max-seconds", type=float, default=300,
                        help="time limit per route; later requests are not sent (300)")
    parser.add_argument("--timeout", type=float, default=30, help="per request, seconds (30)")
    parser.add_argument("--skip-health", action="store_true", help="webhook only")
    parser.add_argument("--odoo-db", help="database to count the processed messages in over "
                        "JSON-RPC; without it, the processing drain is not measured")
    parser.add_argument("--odoo-login", default="admin", help="for --odoo-db (admin)")
    parser.add_argument("--odoo-password", default="admin", help="for --odoo-db (admin)")
    parser.add_argument("--drain-timeout", type=float, default=600,
                        help="seconds to wait for the messages to be processed (600)")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= MAX_COUNT:
        parser.error(f"--count must be between 1 and {MAX_COUNT}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    if not 0 < args.drain_timeout <= 3600:
        parser.error("--drain-timeout must be between 0 and 3600 seconds")
    args.url = args.url.rstrip("/")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_loopback(args.url)
    run_id = secrets.token_hex(4).upper()
    warmup_prefix, measured_prefix = wamid_prefix(run_id, "W"), wamid_prefix(run_id, "M")
    webhook_url, health_url = args.url + WEBHOOK_PATH, args.url + HEALTH_PATH

    def poster(prefix: str) -> Callable[[requests.Session, int], requests.Response]:
        def post_webhook(session: requests.Session, seq: int) -> requests.Response:
            body, headers = signed_request(args, prefix, seq)
            return session.post(webhook_url, data=body, headers=headers, timeout=args.timeout)
        return post_webhook

    def get_health(session: requests.Session, seq: int) -> requests.Response:
        return session.get(health_url, timeout=args.timeout)

    print(f"bench: {args.count} requests per route, {args.concurrency} threads, "
          f"{args.customers} customers, against {args.url}", flush=True)
    rpc = account_id = None
    if args.odoo_db:
        rpc, account_id = connect_odoo(args)
    rows = []
    warm = flood("warm-up", args.warmup, min(args.concurrency, max(args.warmup, 1)),
                 args.max_seconds, args.timeout, poster(warmup_prefix))
    if warm.errors:
        print(f"warm-up: {warm.errors}/{warm.requests} webhook requests failed: "
              f"{dict(warm.statuses)}", flush=True)
    if rpc is not None and warm.statuses[200]:
        # the warm-up's processing must not run into the measured drain
        warm_drain = wait_for_messages(rpc, account_id, warmup_prefix, warm.statuses[200],
                                       WARMUP_DRAIN_S, "warm-up")
        if not warm_drain.complete:
            print(f"warm-up: only {warm_drain.stored}/{warm_drain.expected} messages stored "
                  f"after {WARMUP_DRAIN_S} s {warm_drain.error}".rstrip(), flush=True)

    webhook = flood(f"POST {WEBHOOK_PATH}", args.count, args.concurrency, args.max_seconds,
                    args.timeout, poster(measured_prefix))
    rows.append(webhook)
    drain = None
    if rpc is not None:
        # before the health flood: it would compete with the cron worker for the CPU
        print(f"drain: waiting for {webhook.statuses[200]} messages to be stored "
              f"(at most {args.drain_timeout:g} s)", flush=True)
        drain = wait_for_messages(rpc, account_id, measured_prefix, webhook.statuses[200],
                                  args.drain_timeout, "drain")
    if not args.skip_health:
        rows.append(flood(f"GET {HEALTH_PATH}", args.count, args.concurrency, args.max_seconds,
                          args.timeout, get_health))
    print_table(rows)
    if drain is not None:
        print_drain(webhook, drain, args.drain_timeout)
    failed = any(row.errors for row in rows) or (drain is not None and not drain.complete)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
