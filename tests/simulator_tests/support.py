"""Test helpers: webhook receiver, Graph client, bounded polling."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from wacrm_simulator import Simulator

TOKEN = "tok-main"
SECRET = "secret-main"
PNID = "111000111000111"
WABA = "999000999000999"
VERSION = "v25.0"


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01):
    """Bounded poll until ``predicate()`` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


class Receiver:
    """Stdlib webhook receiver recording raw bodies; answers from a status script."""

    def __init__(self):
        self.hits: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.script: list[int] = []  # statuses answered first, then 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.hits.append({"path": self.path, "headers": dict(self.headers),
                                          "raw": raw, "json": json.loads(raw),
                                          "answered": status})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [h["json"] for h in self.hits]

    def statuses(self, wamid: str | None = None) -> list[dict[str, Any]]:
        out = []
        for payload in self.payloads():
            for entry in payload["entry"]:
                for change in entry["changes"]:
                    for status in change["value"].get("statuses", []):
                        if wamid is None or status["id"] == wamid:
                            out.append(status)
        return out

    def messages(self) -> list[dict[str, Any]]:
        return [m for p in self.payloads() for e in p["entry"] for c in e["changes"]
                for m in c["value"].get("messages", [])]

    def fields(self, field: str) -> list[dict[str, Any]]:
        return [c["value"] for p in self.payloads() for e in p["entry"] for c in e["changes"]
                if c["field"] == field]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify(hit: dict[str, Any], secret: str = SECRET) -> bool:
    header = hit["headers"].get("X-Hub-Signature-256", "")
    expected = hmac.new(secret.encode(), hit["raw"], hashlib.sha256).hexdigest()
    return header.startswith("sha256=") and hmac.compare_digest(header[7:], expected)


class Graph:
    """Tiny Graph client for tests (independent of the addon's client)."""

    def __init__(self, sim: Simulator, token: str | None = TOKEN):
        self.sim = sim
        self.token = token
        self.http = requests.Session()

    def headers(self, token: Any = "default") -> dict[str, str]:
        token = self.token if token == "default" else token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def url(self, path: str) -> str:
        return f"{self.sim.base_url}/{VERSION}/{path.lstrip('/')}"

    def post(self, path: str, body: Any = None, token: Any = "default", **kw):
        return self.http.post(self.url(path), json=body, headers=self.headers(token),
                              timeout=kw.pop("timeout", 10), **kw)

    def get(self, path: str, token: Any = "default", **kw):
        return self.http.get(self.url(path), headers=self.headers(token),
                             timeout=kw.pop("timeout", 10), **kw)

    def delete(self, path: str, token: Any = "default", **kw):
        return self.http.delete(self.url(path), headers=self.headers(token), timeout=10, **kw)

    def send(self, to: str, body: dict[str, Any] | None = None, **kw):
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        payload.update(body or {"type": "text", "text": {"body": "hello"}})
        return self.post(f"{PNID}/messages", payload, **kw)


def error_code(resp) -> int:
    return resp.json()["error"]["code"]
