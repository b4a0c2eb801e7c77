#!/usr/bin/env python3
"""Flood the WhatsApp webhook of a local Odoo with signed inbound text messages.

Not a test: `python3 tools/wacrm.py bench` (or `make bench`) starts a throwaway
server and runs this against it. Run by hand against any Odoo on this machine:

    python3 tests/benchmarks/bench_webhook.py --url http://127.0.0.1:8069 \
        --app-secret SECRET --phone-number-id 200000000000002 --waba-id 100000000000001 \
        --display-phone-number 15550001111 --count 2000 --concurrency 16 --customers 500

Each POST is a Meta-shaped `messages` webhook with one text message from one of
`--customers` senders, a unique wamid, and `X-Hub-Signature-256: sha256=<hex>` over
the raw bytes. Then the bare route GET /web/health is flooded the same way, as the
ceiling to compare with. Loopback addresses only; bounded in count and time.
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
from urllib.parse import urlsplit

import requests

WEBHOOK_PATH = "/whatsapp_crm/webhook"
HEALTH_PATH = "/web/health"
MAX_COUNT = 100_000
MAX_CONCURRENCY = 256


@dataclass
class RouteStats:
    route: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    not_sent: int = 0
    elapsed_s: float = 0.0

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


def inbound_text(args: argparse.Namespace, run_id: str, seq: int) -> dict:
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
                        "id": f"wamid.BENCH{run_id}{seq:08d}",
                        "timestamp": str(int(time.time())),
                        "type": "text",
                        "text": {"body": f"Benchmark message {seq} from customer {customer}"},
                    }],
                },
            }],
        }],
    }


def signed_request(args: argparse.Namespace, run_id: str, seq: int) -> tuple[bytes, dict]:
    body = json.dumps(inbound_text(args, run_id, seq), separators=(",", ":")).encode()
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
        with lock:
            stats.latencies_ms.append(latency)
            stats.statuses[status] += 1
            if status != 200:
                stats.errors += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(one, seq) for seq in range(count)]:
            future.result()
    stats.elapsed_s = time.monotonic() - started
    return stats


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
    parser.add_argument("--count", type=int, default=2000, help="requests per route (2000)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads (16)")
    parser.add_argument("--customers", type=int, default=500, help="distinct senders (500)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first (20)")
    parser.add_argument("--max-seconds", type=float, default=300,
                        help="time limit per route; later requests are not sent (300)")
    parser.add_argument("--timeout", type=float, default=30, help="per request, seconds (30)")
    parser.add_argument("--skip-health", action="store_true", help="webhook only")
    args = parser.parse_args(argv)
    if not 1 <= args.count <= MAX_COUNT:
        parser.error(f"--count must be between 1 and {MAX_COUNT}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    args.url = args.url.rstrip("/")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_loopback(args.url)
    run_id = secrets.token_hex(4).upper()
    webhook_url, health_url = args.url + WEBHOOK_PATH, args.url + HEALTH_PATH

    def post_webhook(session: requests.Session, seq: int) -> requests.Response:
        body, headers = signed_request(args, run_id, seq)
        return session.post(webhook_url, data=body, headers=headers, timeout=args.timeout)

    def get_health(session: requests.Session, seq: int) -> requests.Response:
        return session.get(health_url, timeout=args.timeout)

    print(f"bench: {args.count} requests per route, {args.concurrency} threads, "
          f"{args.customers} customers, against {args.url}", flush=True)
    rows = []
    warm = flood("warm-up", args.warmup, min(args.concurrency, max(args.warmup, 1)),
                 args.max_seconds, args.timeout,
                 lambda session, seq: post_webhook(session, args.count + seq))
    if warm.errors:
        print(f"warm-up: {warm.errors}/{warm.requests} webhook requests failed: "
              f"{dict(warm.statuses)}", flush=True)
    rows.append(flood(f"POST {WEBHOOK_PATH}", args.count, args.concurrency, args.max_seconds,
                      args.timeout, post_webhook))
    if not args.skip_health:
        rows.append(flood(f"GET {HEALTH_PATH}", args.count, args.concurrency, args.max_seconds,
                          args.timeout, get_health))
    print_table(rows)
    return 1 if any(row.errors for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
