"""Signed webhook delivery (thread pool, retries, faults) and Meta envelope builders."""

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


class WebhookSender:
    """Delivers payloads to webhook URLs; every delivery (and attempt) is recorded."""

    def __init__(self, *, retries: int, backoff: float, timeout: float, workers: int,
                 log: Callable[[str], None], now: Callable[[], float], limit: int = 100_000):
        self.retries = retries
        self.backoff = backoff
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

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    # ----------------------------------------------------------------- delivery
    def submit(self, account: Account, payload: dict[str, Any], *, kind: str,
               signature: str | None = None, key: str | None = None) -> Future:
        """Queue a delivery. Deliveries sharing ``key`` are made one after another."""
        with self._lock:
            duplicate = self.duplicate_next > 0
            if duplicate:
                self.duplicate_next -= 1
        copies = 2 if duplicate else 1
        if self._closed:
            fut: Future = Future()
            fut.set_result({"status_code": None, "attempts": 0, "error": "stopped"})
            return fut
        if key is None:
            fut = self._pool.submit(self._deliver_copies, account, payload, kind, signature,
                                    copies)
            return fut
        fut = Future()
        with self._lock:
            queue = self._queues.setdefault(key, deque())
            queue.append((account, payload, kind, signature, copies, fut))
            start = len(queue) == 1
        if start:
            self._pool.submit(self._drain, key)
        return fut

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._queues.get(key)
                if not queue:
                    self._queues.pop(key, None)
                    return
                account, payload, kind, signature, copies, fut = queue[0]
            try:
                fut.set_result(self._deliver_copies(account, payload, kind, signature, copies))
            except Exception as exc:  # keep draining
                fut.set_exception(exc)
            with self._lock:
                queue.popleft()

    def _deliver_copies(self, account, payload, kind, signature, copies) -> dict[str, Any]:
        result = self.deliver(account, payload, kind=kind, signature=signature)
        for _ in range(copies - 1):
            self.deliver(account, payload, kind=kind, signature=signature, duplicate=True)
        return result

    def deliver(self, account: Account, payload: dict[str, Any], *, kind: str,
                signature: str | None = None, duplicate: bool = False) -> dict[str, Any]:
        """Deliver synchronously with retries; returns the delivery record."""
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
            "id": next(self._ids),
            "kind": kind,
            "url": account.webhook_url,
            "phone_number_id": account.phone_number_id,
            "payload": payload,
            "body": body.decode("utf-8"),
            "signature": sig_header,
            "duplicate": duplicate,
            "timestamp": self._now(),
            "attempts": 0,
            "attempt_log": [],
            "status_code": None,
            "error": None,
            "latency_ms": None,
        }
        with self._lock:
            self._records.append(record)
            if len(self._records) > self.limit:
                del self._records[: len(self._records) - self.limit]
        if not account.webhook_url:
            record["error"] = "no webhook_url configured"
            self._log(f"webhook {kind} dropped: no webhook_url for {account.phone_number_id}")
            return self._snapshot(record)
        delay = self.backoff
        for attempt in range(1, self.retries + 2):
            started = time.monotonic()
            status, error = None, None
            try:
                resp = self._session.post(account.webhook_url, data=body, headers=headers,
                                          timeout=self.timeout)
                status = resp.status_code
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
            latency = round((time.monotonic() - started) * 1000, 2)
            with self._lock:
                record["attempts"] = attempt
                record["status_code"] = status
                record["error"] = error
                record["latency_ms"] = latency
                record["attempt_log"].append(
                    {"status_code": status, "error": error, "latency_ms": latency})
            self._log(f"webhook {kind} -> {account.webhook_url} "
                      f"{status if status is not None else 'ERR'} attempt {attempt} "
                      f"({latency} ms){' dup' if duplicate else ''}")
            if status == 200 or self._closed or attempt > self.retries:
                break
            time.sleep(delay)
            delay *= 2
        return self._snapshot(record)

    def _snapshot(self, record: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"id": record["id"], "status_code": record["status_code"],
                    "attempts": record["attempts"], "error": record["error"],
                    "latency_ms": record["latency_ms"]}
