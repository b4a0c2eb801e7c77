"""HTTP front-end: Graph API routes, /_media downloads and the /_sim/ control API."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .config import SimulatorConfig
from .control import ControlMixin
from .core import SimulatorCore
from .errors import GraphError, not_found
from .resources import ResourcesMixin
from .webhooks import serialize

VERSION_RE = re.compile(r"^v\d+\.\d+$")


class Simulator(ControlMixin, ResourcesMixin, SimulatorCore):
    """The Meta WhatsApp Cloud API simulator (start() it, then talk to ``base_url``)."""

    def __init__(self, config: SimulatorConfig | None = None, log=None):
        super().__init__(config, log)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else 0

    def start(self) -> Simulator:
        self._httpd = _Server((self.config.host, self.config.port), _Handler)
        self._httpd.sim = self
        self.base_url = f"http://{self.config.host}:{self.port}"
        self.scheduler.start()
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.02}, name="sim-http",
                                        daemon=True)
        self._thread.start()
        self.log(f"listening on {self.base_url} "
                 f"({len(self.config.accounts)} account(s))")
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self.scheduler.stop()
        self.sender.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: Simulator

    def handle_error(self, request, client_address) -> None:
        import sys
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body are separate writes: avoid Nagle + delayed-ACK stalls
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ------------------------------------------------------------------ helpers
    def _read_body(self) -> bytes | None:
        sim = self.server.sim
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > sim.config.max_body_bytes:
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, serialize(obj), "application/json; charset=UTF-8")

    def _token(self, query: dict[str, str]) -> str | None:
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        return query.get("access_token")

    # ----------------------------------------------------------------- dispatch
    def _dispatch(self, method: str) -> None:
        sim = self.server.sim
        url = urlsplit(self.path)
        path = url.path
        query = dict(parse_qsl(url.query))
        raw = self._read_body()
        if raw is None:
            self.close_connection = True
            self._json(413, GraphError(100, "Request body too large.", status=413).body())
            return
        if path.startswith("/_sim/"):
            self._control(method, path, query, raw)
            return
        started = time.monotonic()
        fault = sim.take_fault(path)
        if fault and fault["kind"] == "timeout":
            time.sleep(fault["delay"])
        if fault and fault["kind"] in ("http_500", "graph_error"):
            status = fault["status"] or (500 if fault["kind"] == "http_500" else None)
            err = GraphError(fault["code"] if fault["kind"] == "graph_error" else 1,
                             f"Injected {fault['kind']} fault.", status=status)
            if fault["kind"] == "http_500":
                err.message = "An unknown error occurred"
            self._finish(method, path, query, raw, err.status, err.body(), err.code, started)
            return
        content_type = self.headers.get("Content-Type") or ""
        try:
            if path.startswith("/_media/"):
                data, mime = sim.download_media(self._token(query), path[len("/_media/"):],
                                                query)
                self._record(method, path, query, None, 200, None, started)
                self._send(200, data, mime)
                return
            body = None
            if raw and content_type.startswith("application/json"):
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise GraphError(100, f"Invalid JSON body: {exc}") from exc
            elif raw and not content_type.startswith("multipart/"):
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    body = dict(parse_qsl(raw.decode("utf-8", "replace")))
            result = self._graph(method, path, query, body, raw, content_type)
            status = 200
        except GraphError as err:
            err.for_method(method)
            if path.startswith("/_media/") and err.object_id is not None:
                # The download host is not the Graph API: an unknown or tampered media
                # URL is a 404 there (the client re-resolves the media id on 404).
                err.status = 404
            status, result = err.status, err.body()
        except Exception:  # a simulator bug: answer like Meta's unknown error, log it
            sim.log("internal error:\n" + traceback.format_exc())
            err = GraphError(1, "Internal simulator error.", status=500)
            status, result = err.status, err.body()
        if fault and fault["kind"] == "drop_response":
            self._record(method, path, query, raw, status, result, started)
            self.close_connection = True
            return
        if fault and fault["kind"] == "slow_response":
            time.sleep(fault["delay"])
        self._finish(method, path, query, raw, status, result, None, started)

    def _finish(self, method, path, query, raw, status, result, _code, started) -> None:
        self._record(method, path, query, raw, status, result, started)
        self._json(status, result)

    def _record(self, method, path, query, raw, status, result, started) -> None:
        sim = self.server.sim
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        content_type = self.headers.get("Content-Type") or ""
        entry: dict[str, Any] = {"method": method, "path": path, "query": query,
                                 "headers": headers, "json": None, "status": status,
                                 "timestamp": sim.clock.now(), "wamid": None}
        if raw and content_type.startswith("multipart/"):
            entry["form"] = {"content_type": content_type, "size": len(raw)}
        elif raw:
            try:
                entry["json"] = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                entry["raw"] = raw[:2048].decode("utf-8", "replace")
        if isinstance(result, dict):
            if result.get("messages"):
                entry["wamid"] = result["messages"][0].get("id")
            if "error" in result:
                error = result["error"]
                entry["code"] = error.get("code")
                entry["details"] = ((error.get("error_data") or {}).get("details")
                                    or error.get("message"))
        sim.record_request(entry, accepted=status < 400)
        ms = (time.monotonic() - started) * 1000
        extra = entry.get("wamid") or (f"code {entry['code']}" if "code" in entry else "")
        sim.log(f"{method} {path} -> {status} {extra} ({ms:.1f} ms)")

    # -------------------------------------------------------------------- graph
    def _graph(self, method, path, query, body, raw, content_type) -> dict[str, Any]:
        sim = self.server.sim
        token = self._token(query)
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2 or not VERSION_RE.match(parts[0]) or len(parts) > 3:
            raise GraphError(100, f"Unknown path components: {path}", status=404,
                             message="Unknown path components")
        parts = parts[1:]
        if len(parts) == 1:
            if method == "GET":
                return sim.get_object(token, parts[0])
            if method == "DELETE":
                return sim.delete_media(token, parts[0])
            sim.authorize(token, sim.config.accounts)
            raise not_found(parts[0], "post")
        obj_id, edge = parts
        if edge == "messages" and method == "POST":
            return sim.send_message(token, obj_id, body)
        if edge == "media" and method == "POST":
            return sim.upload_media(token, obj_id, content_type, raw)
        if edge == "message_templates":
            if method == "GET":
                return sim.list_templates(token, obj_id, query, path)
            if method == "POST":
                return sim.create_template(token, obj_id, body)
            return sim.delete_template(token, obj_id, query)
        if edge == "phone_numbers" and method == "GET":
            return sim.phone_numbers(token, obj_id)
        if edge == "subscribed_apps":
            sim._waba(token, obj_id)
            if method == "GET":
                return {"data": [{"whatsapp_business_api_data": {"id": "sim", "name": "Sim"}}]}
            return {"success": True}
        if edge == "register" and method == "POST":
            sim.authorize_phone(token, obj_id)
            return {"success": True}
        sim.authorize(token, sim.config.accounts)
        raise GraphError(100, f"Unsupported {method.lower()} request on edge '{edge}'.",
                         status=404)

    # ------------------------------------------------------------------ control
    def _control(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        sim = self.server.sim
        try:
            body = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._json(400, {"error": {"message": f"invalid JSON: {exc}", "code": 100}})
            return
        try:
            status, result = 200, _control_route(sim, method, path[len("/_sim/"):], query, body)
            if result is None:
                status, result = 404, {"error": {"message": f"no control route {path}",
                                                 "code": 100}}
        except GraphError as err:
            status, result = err.status, err.body()
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            status, result = 400, {"error": {"message": f"{type(exc).__name__}: {exc}",
                                             "code": 100}}
        except Exception:
            sim.log("internal error:\n" + traceback.format_exc())
            status, result = 500, {"error": {"message": "internal simulator error", "code": 1}}
        if path != "/_sim/health":
            sim.log(f"{method} {path} -> {status}")
        self._json(status, result)


def _control_route(sim: Simulator, method: str, route: str, query: dict[str, str],
                   body: dict[str, Any]) -> Any:
    route = route.rstrip("/")
    if method == "GET":
        if route == "health":
            return {"ok": True, "accounts": len(sim.config.accounts), "now": sim.now()}
        if route == "requests":
            return sim.requests(query.get("path"))
        if route == "rejected":
            return sim.rejected(query.get("path"))
        if route == "webhooks":
            return sim.webhooks(query.get("kind"))
        if route == "clock":
            return {"now": sim.now()}
        if route == "faults":
            return [{k: v for k, v in f.items() if k != "regex"} for f in sim.faults]
        if route.startswith("messages/"):
            found = sim.message(route[len("messages/"):])
            if found is None:  # the control API's own 404, not a Graph envelope
                raise GraphError(100, f"Unknown message '{route[len('messages/'):]}'.",
                                 status=404)
            return found
        if route.startswith("customers/"):
            found = sim.customer(route[len("customers/"):])
            if found is None:
                raise GraphError(100, f"Unknown customer '{route[len('customers/'):]}'.",
                                 status=404)
            return found
        if route == "templates":
            waba = query.get("waba_id") or sim.config.accounts[0].waba_id
            return sim.templates.list(waba, query.get("status"), query.get("name"))
        return None
    if method != "POST":
        return None
    if route == "inbound":
        return sim.customer_sends(body)
    if route == "webhook":
        return sim.send_webhook(body["payload"], body.get("account"), body.get("signature"))
    if route == "user_preferences":
        return sim.user_preference(body["wa_id"], body.get("value", "stop"),
                                   body.get("phone_number_id"))
    if route == "customers":
        return sim.register_customer(
            str(body["wa_id"]), body.get("name"), body.get("phone"), bsuid=body.get("bsuid"),
            parent_bsuid=body.get("parent_bsuid"), username=body.get("username"),
            username_only=body.get("username_only"))
    if route == "number_change":
        return sim.customer_changes_number(body["customer"], body["new_wa_id"],
                                           phone_number_id=body.get("phone_number_id"))
    if route == "calls":
        return sim.customer_calls(body["customer"], answered=bool(body.get("answered")),
                                  duration=int(body.get("duration", 60)),
                                  phone_number_id=body.get("phone_number_id"))
    if route == "faults":
        return sim.inject_fault(body["kind"], body.get("count", 1), body.get("path"),
                                body.get("code"), body.get("delay"), body.get("status"))
    if route == "webhook_faults":
        return sim.webhook_faults(body.get("duplicate"), body.get("reorder"),
                                  body.get("batch"), body.get("batch_window"))
    if route == "clock":
        return {"now": sim.advance_clock(float(body.get("advance", 0)))}
    if route == "reset":
        sim.reset()
        return {"ok": True}
    if route == "templates":
        return sim.seed_template(body, body.get("waba_id"), bool(body.get("notify", False)))
    if route == "template_status":
        return sim.set_template_status(body["id"], body["status"], body.get("reason"),
                                       bool(body.get("notify", True)))
    if route == "status":
        err = (int(body.get("code", 131026)), body.get("details")) \
            if body["status"] == "failed" else None
        return sim.emit_status(body["wamid"], body["status"], err)
    return None
