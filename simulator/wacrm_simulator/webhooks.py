"""Signed webhook delivery (thread pool, Meta-like retries, faults) and envelope builders."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from .config import Account


def serialize(payload: dict[str, Any]) -> bytes:
    """Serialise once; these exact bytes are signed and sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def envelope(waba_id: str, field: str, value: dict[str, Any],
             time_: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": waba_id, "changes": [{"value": value, "field": field}]}
    if time_ is not None:
        entry["time"] = time_
    return {"object": "whatsapp_business_account", "entry": [entry]}


def messages_value(account: Account, **extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": account.display_phone_number,
            "phone_number_id": account.phone_number_id,
        },
    }
    value.update(extra)
    return value


@dataclass
class RetryPolicy:
    """Meta-like redelivery: growing delays until ``horizon`` seconds after the first
    attempt (and at most ``retries`` retries when set)."""

    backoff: float = 1.0
    factor: float = 2.0
    backoff_max: float = 300.0
    horizon: float = 7 * 24 * 3600.0
    retries: int | None = None

    def delay(self, attempt: int, elapsed: float) -> float | None:
        """Seconds before retry number ``attempt`` (1-based), or None to give up."""
        if self.retries is not None and attempt > self.retries:
            return None
        delay = min(self.backoff * self.factor ** (attempt - 1), self.backoff_max)
        return delay if elapsed + delay <= self.horizon else None


@dataclass
class _Delivery:
    account: Account
    body: bytes
    headers: dict[str, str]
    record: dict[str, Any]
    copies: int
    future: Future
    key: str | None
    started: float = 0.0
    duplicate: bool = False


class WebhookSender:
    """Delivers payloads to webhook URLs; every delivery (and attempt) is recorded.

    A failed attempt is retried from a timer, so a long retry horizon holds no thread;
    deliveries sharing a key (one message's statuses) still go out one after another."""

    def __init__(self, *, policy: RetryPolicy, timeout: float, workers: int,
                 log: Callable[[str], None], now: Callable[[], float], limit: int = 100_000):
        self.policy = policy
        self.timeout = timeout
        self.limit = limit
        self._log = log
        self._now = now
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sim-webhook")
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._queues: dict[str, deque] = {}
        self._timers: set[threading.Timer] = set()
        self.duplicate_next = 0
        self._closed = False

    # ------------------------------------------------------------------ records
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self.duplicate_next = 0

    def pending_retries(self) -> int:
        with self._lock:
            return len(self._timers)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            timers, self._timers = list(self._timers), set()
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    # ----------------------------------------------------------------- delivery
    def submit(self, account: Account, payload: dict[str, Any], *, kind: str,
               signature: str | None = None, key: str | None = None) -> Future:
        """Queue a delivery; the future gets its record once delivered or given up."""
        fut: Future = Future()
        if self._closed:
            fut.set_result({"status_code": None, "attempts": 0, "error": "stopped"})
            return fut
        with self._lock:
            duplicate = self.duplicate_next > 0
            if duplicate:
                self.duplicate_next -= 1
        delivery = self._new_delivery(account, payload, kind, signature, fut, key,
                                      copies=2 if duplicate else 1)
        if key is not None:
            with self._lock:
                queue = self._queues.setdefault(key, deque())
                queue.append(delivery)
                if len(queue) > 1:
                    return fut
        self._pool.submit(self._attempt, delivery)
        return fut

    def _new_delivery(self, account, payload, kind, signature, fut, key, copies,
                      duplicate=False) -> _Delivery:
        body = serialize(payload)
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature == "missing":
            sig_header = None
        elif signature == "bad":
            sig_header = sign(body, account.app_secret + "-forged")
        else:
            sig_header = sign(body, account.app_secret)
        if sig_header:
            headers["X-Hub-Signature-256"] = sig_header
        record: dict[str, Any] = {
            "id": next(self._ids), "kind": kind, "url": account.webhook_url,
            "phone_number_id": account.phone_number_id, "payload": payload,
            "body": body.decode("utf-8"), "signature": sig_header, "duplicate": duplicate,
            "timestamp": self._now(), "attempts": 0, "attempt_log": [],
            "status_code": None, "error": None, "latency_ms": None,
        }
        with self._lock:
            self._records.append(record)
            if len(self._records) > self.limit:
                del self._records[: len(self._records) - self.limit]
        return _Delivery(account, body, headers, record, copies, fut, key,
                         duplicate=duplicate)

    def _attempt(self, delivery: _Delivery) -> None:
        try:
            retry_in = self._post(delivery)
        except Exception as exc:  # a delivery must always end, or its key stays blocked
            self._log(f"webhook delivery crashed: {exc!r}")
            retry_in = None
        if retry_in is None:
            self._finish(delivery)
            return
        timer = threading.Timer(retry_in, lambda: self._retry(delivery, timer))
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers.add(timer)
            delivery.record["next_attempt_in"] = retry_in
        timer.start()

    def _retry(self, delivery: _Delivery, timer: threading.Timer) -> None:
        with self._lock:
            self._timers.discard(timer)
        if not self._closed:
            self._pool.submit(self._attempt, delivery)

    def _post(self, delivery: _Delivery) -> float | None:
        """One attempt; the delay before the next one, or None when done."""
        account, record = delivery.account, delivery.record
        url = account.webhook_url  # read at each attempt: the endpoint may have moved
        if not url:
            record["error"] = "no webhook_url configured"
            self._log(f"webhook {record['kind']} dropped: no webhook_url for "
                      f"{account.phone_number_id}")
            return None
        if not delivery.started:
            delivery.started = time.monotonic()
        started = time.monotonic()
        status, error = None, None
        try:
            resp = self._session.post(url, data=delivery.body, headers=delivery.headers,
                                      timeout=self.timeout)
            status = resp.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency = round((time.monotonic() - started) * 1000, 2)
        with self._lock:
            record["attempts"] += 1
            record.update(url=url, status_code=status, error=error, latency_ms=latency)
            record.pop("next_attempt_in", None)
            record["attempt_log"].append(
                {"status_code": status, "error": error, "latency_ms": latency,
                 "at": self._now()})
            attempt = record["attempts"]
        self._log(f"webhook {record['kind']} -> {url} "
                  f"{status if status is not None else 'ERR'} attempt {attempt} "
                  f"({latency} ms){' dup' if delivery.duplicate else ''}")
        if status == 200 or self._closed or delivery.duplicate:
            return None
        return self.policy.delay(attempt, time.monotonic() - delivery.started)

    def _finish(self, delivery: _Delivery) -> None:
        for _ in range(delivery.copies - 1):  # a duplicate: the same bytes once more
            copy = _Delivery(delivery.account, delivery.body, delivery.headers,
                             dict(delivery.record, attempts=0, attempt_log=[],
                                  duplicate=True, id=next(self._ids)),
                             1, Future(), None, duplicate=True)
            with self._lock:
                self._records.append(copy.record)
            self._post(copy)
        if not delivery.future.done():
            delivery.future.set_result(self._snapshot(delivery.record))
        if delivery.key is None:
            return
        with self._lock:
            queue = self._queues.get(delivery.key)
            if queue:
                queue.popleft()
            following = queue[0] if queue else None
            if not queue:
                self._queues.pop(delivery.key, None)
        if following is not None and not self._closed:
            self._pool.submit(self._attempt, following)

    def _snapshot(self, record: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"id": record["id"], "status_code": record["status_code"],
                    "attempts": record["attempts"], "error": record["error"],
                    "latency_ms": record["latency_ms"]}
