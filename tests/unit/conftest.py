"""Shared fixtures for the pure-Python unit tests of whatsapp_crm/lib.

The package is imported as top-level ``lib``: importing ``whatsapp_crm`` itself
would import Odoo. ``graph_stub`` is a real HTTP server on 127.0.0.1 so the
client's requests go over the wire exactly as they would to Meta.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "whatsapp_crm"))

# Upper bound for stub handlers that deliberately hang; the fixture releases them
# at teardown, so this only matters if a test forgets to.
_HANG_LIMIT_SECONDS = 10


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class CannedResponse:
    status: int = 200
    json_body: object = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_length: bool = True  # False: close-delimited body, no Content-Length
    hang: bool = False  # wait (until teardown) before answering
    hang_after_body: bool = False  # send the body, then wait before closing

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        return json.dumps(self.json_body if self.json_body is not None else {}).encode()


class GraphStub:
    """Records requests and answers them with canned responses per (method, path)."""

    def __init__(self):
        self.requests: list[RecordedRequest] = []
        self._responses: dict[tuple[str, str], list[CannedResponse]] = {}
        self._lock = threading.Lock()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.server.daemon_threads = True
        # A short poll interval keeps shutdown() (once per test) fast.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, method: str, path: str, **response) -> None:
        """Queue a response; the last one queued for a route keeps answering."""
        with self._lock:
            self._responses.setdefault((method, path), []).append(CannedResponse(**response))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def _next_response(self, method: str, path: str) -> CannedResponse:
        with self._lock:
            queue = self._responses.get((method, path))
            if not queue:
                return CannedResponse(status=404, json_body={"error": {
                    "message": f"stub has no route for {method} {path}", "code": 803}})
            return queue.pop(0) if len(queue) > 1 else queue[0]


def _make_handler(stub: GraphStub):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            stub.requests.append(RecordedRequest(
                self.command, split.path, parse_qs(split.query), dict(self.headers), body))
            canned = stub._next_response(self.command, split.path)
            if canned.hang:
                stub.release.wait(_HANG_LIMIT_SECONDS)
            payload = canned.payload()
            try:
                self.send_response(canned.status)
                headers = {"Content-Type": "application/json", **canned.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                if canned.content_length:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
                if canned.hang_after_body:
                    stub.release.wait(_HANG_LIMIT_SECONDS)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first, which is what some tests want

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args):  # keep pytest output clean
            pass

    return Handler


@pytest.fixture
def graph_stub():
    stub = GraphStub()
    stub.thread.start()
    try:
        yield stub
    finally:
        stub.release.set()
        stub.server.shutdown()
        stub.server.server_close()
        stub.thread.join()


TOKEN = "EAAG-test-token-0123456789-do-not-leak"


@pytest.fixture
def client(graph_stub):
    from lib.cloud_api import CloudApiClient

    return CloudApiClient(
        TOKEN, phone_number_id="200000000000002", waba_id="100000000000001",
        base_url=graph_stub.base_url + "/", api_version="v25.0", timeout=(2, 5),
    )
