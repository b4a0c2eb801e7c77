#!/usr/bin/env python3
"""The webhook pipeline under load: acknowledgements, processing drain and latency.

Not a test: `python3 tools/wacrm.py bench` (`make bench`) starts a throwaway server,
seeds it and runs this against it. By hand, against any Odoo on this machine:

    python3 tests/benchmarks/bench_webhook.py --url http://127.0.0.1:8069 \
        --app-secret SECRET --phone-number-id 200000000000002 --waba-id 100000000000001 \
        --display-phone-number 15550001111 --odoo-db wacrm_demo \
        --scenarios existing,new,statuses,mix,health --status-prefix wamid.SEEDA

Scenarios (each POST is one Meta-shaped, signed webhook with one item):
- ``existing``: text messages from customers who already have a conversation (the
  warm-up creates them); acknowledgements per second, then the processing drain.
- ``new``: one text message from each of ``--count`` new customers (contact, lead,
  chatter); drain per second.
- ``statuses``: ``delivered`` then ``read`` for ``--status-messages`` outbound messages
  seeded with wamids ``<--status-prefix><n>``, posted while the processing is held (the
  scheduled actions deactivated over JSON-RPC), in four rounds with rounds of the bare
  route between them: acknowledgements per second of the request path alone against
  the bare route's; then the processing is let go and the backlog drained: statuses
  applied per second.
- ``mix``: a text message from an existing customer every ``--sample-interval`` s, from
  POST to the message readable over JSON-RPC: first on a quiet server, then while the
  statuses of ``--mix-prefix`` flood it (until they are all applied); p50/p95/p99.
- ``health``: the bare route ``GET /web/health`` flooded like the webhook, the ceiling
  the acknowledgement rate is compared with.

The load comes from ``--concurrency`` threads (16), each with one kept-alive
connection; bodies are built and signed before a flood starts. Figures are printed and
written as JSON to ``--json``. Loopback addresses only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# tests.odoo_rpc, from the repository root, when run as `python3 tests/benchmarks/...`
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.odoo_rpc import OdooRpc, OdooRpcError  # noqa: E402

WEBHOOK_PATH = "/whatsapp_crm/webhook"
HEALTH_PATH = "/web/health"
MAX_COUNT = 200_000
MAX_CONCURRENCY = 256
DRAIN_POLL_S = 0.25  # resolution of the drain timings; each poll is one search_count
SAMPLE_POLL_S = 0.02  # resolution of the latency samples


# --------------------------------------------------------------------------- HTTP
@dataclass
class Flood:
    route: str
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    started_at: float = 0.0
    last_answer_at: float = 0.0
    elapsed_s: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def errors(self) -> int:
        return self.requests - self.statuses[200]

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def as_dict(self) -> dict:
        return {"route": self.route, "requests": self.requests, "errors": self.errors,
                "per_second": round(self.rate, 1),
                **{f"p{p}_ms": round(percentile(self.latencies_ms, p), 1) for p in (50, 95, 99)},
                "statuses": {str(k): v for k, v in self.statuses.items()}}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


class Connection:
    """One kept-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> int:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def flood(url: str, route: str, requests_: list[tuple[str, str, bytes | None, dict]],
          concurrency: int, timeout: float, max_seconds: float) -> Flood:
    """Send the prepared requests from ``concurrency`` threads, each on its own
    kept-alive connection, as fast as the server answers."""
    stats = Flood(route)
    lock = threading.Lock()
    cursor = iter(range(len(requests_)))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        connection = Connection(url, timeout)
        try:
            while time.monotonic() < deadline:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                method, path, body, headers = requests_[index]
                started = time.perf_counter()
                try:
                    status = connection.request(method, path, body, headers)
                except OSError as exc:
                    status = type(exc).__name__
                latency = (time.perf_counter() - started) * 1000
                with lock:
                    stats.latencies_ms.append(latency)
                    stats.statuses[status] += 1
                    stats.last_answer_at = time.monotonic()
        finally:
            connection.close()

    stats.started_at = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.elapsed_s = time.monotonic() - stats.started_at
    return stats


# ------------------------------------------------------------------------ payloads
class Payloads:
    def __init__(self, args: argparse.Namespace):
        self.args = args

    def _envelope(self, value: dict) -> dict:
        args = self.args
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": args.display_phone_number,
                              "phone_number_id": args.phone_number_id}, **value}
        return {"object": "whatsapp_business_account",
                "entry": [{"id": args.waba_id, "changes": [{"field": "messages",
                                                            "value": value}]}]}

    def signed(self, payload: dict) -> tuple[str, str, bytes, dict]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        digest = hmac.new(self.args.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return ("POST", WEBHOOK_PATH, body, {"Content-Type": "application/json",
                                             "X-Hub-Signature-256": f"sha256={digest}"})

    def text(self, wa_id: str, wamid: str, body: str) -> tuple[str, str, bytes, dict]:
        return self.signed(self._envelope({
            "contacts": [{"profile": {"name": f"Bench {wa_id[-6:]}"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": body}}]}))

    def status(self, wamid: str, status: str, seq: int) -> tuple[str, str, bytes, dict]:
        return self.signed(self._envelope({"statuses": [{
            "id": wamid, "status": status, "timestamp": str(int(time.time()) + seq % 2),
            "recipient_id": "5511900000000"}]}))

    def statuses(self, prefix: str, count: int) -> list[tuple[str, str, bytes, dict]]:
        """delivered for every message, then read for every message, interleaved the way
        a campaign's statuses arrive (a message's read after its delivered)."""
        out = []
        for status in ("delivered", "read"):
            out += [self.status(f"{prefix}{n:07d}", status, n) for n in range(count)]
        return out


def existing_customer(index: int) -> str:
    return f"55118{index:08d}"  # the warm-up's customers


def new_customer(run_id: str, index: int) -> str:
    return f"55119{int(run_id, 16) % 1000:03d}{index:05d}"


# ---------------------------------------------------------------------- measuring
class Odoo:
    def __init__(self, args: argparse.Namespace):
        self.rpc = OdooRpc(args.url, args.odoo_db, args.odoo_login, args.odoo_password,
                           timeout=60)
        try:
            ids = self.rpc.call("whatsapp.crm.account", "search",
                                [("phone_number_id", "=", args.phone_number_id)], limit=1)
        except OdooRpcError as exc:
            raise SystemExit(f"bench_webhook: JSON-RPC on {args.odoo_db} failed: {exc}") from exc
        if not ids:
            raise SystemExit(f"bench_webhook: no account {args.phone_number_id}")
        self.account_id = ids[0]

    def lanes(self, active: bool) -> None:
        """Hold (or let go) the processing: the scheduled actions that process events."""
        ids = self.rpc.call("ir.cron", "search", [
            ("model_id.model", "=", "whatsapp.crm.webhook.event"),
            ("code", "=like", "%_cron_process_pending()%"), ("active", "in", [True, False])])
        self.rpc.call("ir.cron", "write", ids, {"active": active})

    def count(self, domain: list) -> int:
        return self.rpc.call("whatsapp.crm.message", "search_count",
                             [("account_id", "=", self.account_id), *domain])

    def wait(self, domain: list, expected: int, timeout: float, label: str) -> float | None:
        """time.monotonic() of the first poll that saw ``expected`` messages, or None."""
        deadline = time.monotonic() + timeout
        next_report = time.monotonic() + 10
        while True:
            polled_at = time.monotonic()
            try:
                found = self.count(domain)
            except (OSError, OdooRpcError) as exc:
                print(f"   … {label}: poll failed: {exc}", flush=True)
                found = -1
            if found >= expected:
                return polled_at
            now = time.monotonic()
            if now >= deadline:
                print(f"   … {label}: {found}/{expected} after {timeout:g} s", flush=True)
                return None
            if now >= next_report:
                print(f"   … {label}: {found}/{expected}", flush=True)
                next_report = now + 10
            time.sleep(DRAIN_POLL_S)


def drained(flood_: Flood, done_at: float | None, items: int) -> dict:
    if done_at is None:
        return {"items": items, "complete": False}
    total = done_at - flood_.started_at
    return {"items": items, "complete": True, "seconds": round(total, 2),
            "per_second": round(items / total, 1) if total > 0 else None,
            "after_last_ack_s": round(max(done_at - flood_.last_answer_at, 0), 2)}


def sample_latency(args, payloads: Payloads, odoo: Odoo, run_id: str, label: str,
                   stop: threading.Event, minimum: int) -> list[float]:
    """One message every ``--sample-interval`` s until ``stop`` is set (and at least
    ``minimum`` samples); seconds from POST to the message readable over JSON-RPC."""
    connection = Connection(args.url, args.timeout)
    samples: list[float] = []
    seq = 0
    while not stop.is_set() or len(samples) < minimum:
        wamid = f"wamid.BENCH{run_id}{label}{seq:06d}"
        method, path, body, headers = payloads.text(
            existing_customer(seq % args.customers), wamid, f"latency sample {seq}")
        started = time.monotonic()
        connection.request(method, path, body, headers)
        while not odoo.count([("wamid", "=", wamid)]):
            if time.monotonic() - started > 60:
                break
            time.sleep(SAMPLE_POLL_S)
        samples.append(time.monotonic() - started)
        seq += 1
        time.sleep(max(args.sample_interval - (time.monotonic() - started), 0))
    connection.close()
    return samples


def latency_summary(samples: list[float]) -> dict:
    return {"samples": len(samples),
            **{f"p{p}_s": round(percentile(samples, p), 3) for p in (50, 95, 99)},
            "max_s": round(max(samples), 3) if samples else None,
            "mean_s": round(statistics.fmean(samples), 3) if samples else None}


# ---------------------------------------------------------------------- scenarios
def warm_up(args, payloads, odoo, run_id) -> None:
    """Every existing customer writes once (conversation, contact and lead exist)."""
    known = odoo.count([("wamid", "=like", "wamid.BENCHWARM%")])
    if known >= args.customers:
        return
    requests_ = [payloads.text(existing_customer(i), f"wamid.BENCHWARM{i:07d}", "hello")
                 for i in range(args.customers)]
    print(f"warm-up: {args.customers} customers write once", flush=True)
    flood(args.url, "warm-up", requests_, args.concurrency, args.timeout, args.max_seconds)
    odoo.wait([("wamid", "=like", "wamid.BENCHWARM%")], args.customers, args.drain_timeout,
              "warm-up")


def text_flood(args, odoo, prefix: str, label: str, requests_: list) -> dict:
    """Text messages whose wamids start with ``prefix``: acks, then the drain."""
    result = flood(args.url, f"POST {WEBHOOK_PATH} (text, {label} customers)", requests_,
                   args.concurrency, args.timeout, args.max_seconds)
    done = odoo.wait([("wamid", "=like", f"{prefix}%")], result.statuses[200],
                     args.drain_timeout, label)
    return {"ack": result.as_dict(), "drain": drained(result, done, result.statuses[200])}


def scenario_existing(args, payloads, odoo, run_id) -> dict:
    prefix = f"wamid.BENCH{run_id}E"
    return text_flood(args, odoo, prefix, "existing", [
        payloads.text(existing_customer(n % args.customers), f"{prefix}{n:07d}", f"message {n}")
        for n in range(args.count)])


def scenario_new(args, payloads, odoo, run_id) -> dict:
    prefix = f"wamid.BENCH{run_id}N"
    return text_flood(args, odoo, prefix, "new", [
        payloads.text(new_customer(run_id, n), f"{prefix}{n:07d}", "first message")
        for n in range(min(args.count, args.new_customers))])


def scenario_statuses(args, payloads, odoo, run_id) -> dict:
    """The acknowledgements with processing held (the request path alone), then the
    drain of that backlog once processing is let go: statuses applied per second."""
    if not args.status_prefix:
        raise SystemExit("bench_webhook: the statuses scenario needs --status-prefix")
    requests_ = payloads.statuses(args.status_prefix, args.status_messages)
    result = Flood(f"POST {WEBHOOK_PATH} (status, processing held)")
    health = Flood(f"GET {HEALTH_PATH} (between the status rounds)")
    odoo.lanes(active=False)
    try:
        # Rounds of the bare route and of the webhook in turn, so that both see the same
        # machine (a 2-core box's speed drifts over a minute).
        rounds = 4
        for index in range(rounds):
            chunk = requests_[index::rounds]
            for total, batch in ((health, [("GET", HEALTH_PATH, None, {})] * len(chunk)),
                                 (result, chunk)):
                part = flood(args.url, total.route, batch, args.concurrency, args.timeout,
                             args.max_seconds)
                total.latencies_ms += part.latencies_ms
                total.statuses.update(part.statuses)
                total.elapsed_s += part.elapsed_s
                total.started_at = total.started_at or part.started_at
                total.last_answer_at = part.last_answer_at
    finally:
        odoo.lanes(active=True)
    # One customer message wakes the processing, as any webhook does.
    connection = Connection(args.url, args.timeout)
    released = time.monotonic()
    connection.request(*payloads.text(existing_customer(0), f"wamid.BENCH{run_id}R",
                                      "wake up"))
    connection.close()
    done = odoo.wait([("wamid", "=like", f"{args.status_prefix}%"), ("state", "=", "read")],
                     args.status_messages, args.drain_timeout, "statuses")
    backlog = Flood("backlog", started_at=released, last_answer_at=released)
    return {"ack": result.as_dict(), "health": health.as_dict(),
            "drain": drained(backlog, done, result.statuses[200])}


def scenario_mix(args, payloads, odoo, run_id) -> dict:
    stop = threading.Event()
    stop.set()
    quiet = sample_latency(args, payloads, odoo, run_id, "Q", stop, args.samples)
    flood_result: dict = {}
    if not args.mix_prefix:
        return {"quiet": latency_summary(quiet)}
    stop = threading.Event()
    under: list[float] = []
    sampler = threading.Thread(target=lambda: under.extend(sample_latency(
        args, payloads, odoo, run_id, "F", stop, args.samples)), daemon=True)
    sampler.start()
    requests_ = payloads.statuses(args.mix_prefix, args.mix_messages)
    result = flood(args.url, f"POST {WEBHOOK_PATH} (status flood)", requests_,
                   args.concurrency, args.timeout, args.max_seconds)
    done = odoo.wait([("wamid", "=like", f"{args.mix_prefix}%"), ("state", "=", "read")],
                     args.mix_messages, args.drain_timeout, "mix statuses")
    stop.set()
    sampler.join()
    flood_result = {"ack": result.as_dict(), "drain": drained(result, done,
                                                              result.statuses[200])}
    return {"quiet": latency_summary(quiet), "under_flood": latency_summary(under),
            "flood": flood_result}


def scenario_health(args, payloads, odoo, run_id) -> dict:
    requests_ = [("GET", HEALTH_PATH, None, {})] * args.health_count
    return {"ack": flood(args.url, f"GET {HEALTH_PATH}", requests_, args.concurrency,
                         args.timeout, args.max_seconds).as_dict()}


SCENARIOS = {"existing": scenario_existing, "new": scenario_new,
             "statuses": scenario_statuses, "mix": scenario_mix, "health": scenario_health}


# ------------------------------------------------------------------------ report
def report(results: dict) -> None:
    print()
    header = f"{'flood':<52} {'req':>6} {'err':>4} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}"
    print(header)
    print("-" * len(header))
    for result in results.values():
        for row in (result.get("health"), result.get("ack"),
                    result.get("flood", {}).get("ack")):
            if row:
                print(f"{row['route']:<52} {row['requests']:>6} {row['errors']:>4} "
                      f"{row['per_second']:>7} {row['p50_ms']:>7} {row['p95_ms']:>7}")
    print()
    for name, result in results.items():
        drain = result.get("drain") or result.get("flood", {}).get("drain")
        if drain:
            line = (f"{drain['per_second']}/s ({drain['items']} items in {drain['seconds']} s, "
                    f"{drain['after_last_ack_s']} s after the last ack)"
                    if drain["complete"] else f"incomplete ({drain['items']} items)")
            print(f"drain {name:<10} {line}")
    statuses = results.get("statuses", {})
    if statuses.get("health", {}).get("per_second"):
        ack, health = statuses["ack"]["per_second"], statuses["health"]["per_second"]
        print(f"ack statuses {ack}/s vs {health}/s bare route in turn = {ack / health:.2f}x")
    mix = results.get("mix")
    if mix:
        for key in ("quiet", "under_flood"):
            lat = mix.get(key)
            if lat:
                print(f"latency {key:<12} POST -> stored: p50 {lat['p50_s']} s, p95 "
                      f"{lat['p95_s']} s, p99 {lat['p99_s']} s, max {lat['max_s']} s "
                      f"({lat['samples']} samples)")


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise SystemExit(f"bench_webhook: cannot resolve {host}: {exc}") from exc
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise SystemExit(f"bench_webhook: {url} is not a loopback address")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="Odoo base URL (loopback only)")
    parser.add_argument("--app-secret", required=True)
    parser.add_argument("--phone-number-id", required=True)
    parser.add_argument("--waba-id", required=True)
    parser.add_argument("--display-phone-number", required=True)
    parser.add_argument("--odoo-db", required=True)
    parser.add_argument("--odoo-login", default="admin")
    parser.add_argument("--odoo-password", default="admin")
    parser.add_argument("--scenarios", default="existing,new,statuses,mix,health")
    parser.add_argument("--count", type=int, default=1000,
                        help="messages of the existing-customer flood (1000)")
    parser.add_argument("--new-customers", type=int, default=300,
                        help="messages of the new-customer flood (300)")
    parser.add_argument("--customers", type=int, default=200, help="existing customers (200)")
    parser.add_argument("--status-prefix", help="wamid prefix of the seeded messages")
    parser.add_argument("--status-messages", type=int, default=600)
    parser.add_argument("--mix-prefix", help="wamid prefix of the messages of the mix flood")
    parser.add_argument("--mix-messages", type=int, default=3000)
    parser.add_argument("--health-count", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=20, help="latency samples (20)")
    parser.add_argument("--sample-interval", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16, help="client connections (16)")
    parser.add_argument("--max-seconds", type=float, default=600, help="per flood (600)")
    parser.add_argument("--timeout", type=float, default=60, help="per request (60)")
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--label", default="", help="a name for this run in the JSON")
    args = parser.parse_args(argv)
    for name in ("count", "new_customers", "customers", "status_messages", "mix_messages",
                 "health_count"):
        if not 1 <= getattr(args, name) <= MAX_COUNT:
            parser.error(f"--{name.replace('_', '-')} must be between 1 and {MAX_COUNT}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}")
    args.url = args.url.rstrip("/")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_loopback(args.url)
    run_id = secrets.token_hex(3).upper()
    payloads, odoo = Payloads(args), Odoo(args)
    scenarios = args.scenarios.split(",")
    print(f"bench {args.label}: {', '.join(scenarios)} against {args.url}, "
          f"{args.concurrency} connections", flush=True)
    if {"existing", "mix"} & set(scenarios):
        warm_up(args, payloads, odoo, run_id)
    results = {}
    for name in scenarios:
        print(f"== {name}", flush=True)
        results[name] = SCENARIOS[name](args, payloads, odoo, run_id)
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps({"label": args.label, "results": results},
                                              indent=2), encoding="utf-8")
    failed = any((r.get("ack") or {}).get("errors") for r in results.values()) or any(
        not (r.get("drain") or {"complete": True})["complete"] for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
