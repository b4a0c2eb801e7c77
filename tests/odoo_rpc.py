"""A tiny JSON-RPC client for a running Odoo 19 server (tools and integration tests).

It logs in through ``/web/session/authenticate`` and calls model methods through
``/web/dataset/call_kw`` with the session cookie, like the web client does (the
external ``/jsonrpc`` endpoint logs a deprecation warning on every call in 19.0).

    rpc = OdooRpc("http://127.0.0.1:8069", "wacrm_demo", "admin", "admin")
    ids = rpc.call("res.partner", "search", [("is_company", "=", True)], limit=5)
    rpc.call("res.partner", "write", ids, {"comment": "hello"})
"""

from __future__ import annotations

import itertools
from typing import Any

import requests


class OdooRpcError(Exception):
    """The server answered a JSON-RPC error (``name`` is the Python exception's class)."""

    def __init__(self, message: str, name: str = "", debug: str = ""):
        super().__init__(message)
        self.message = message
        self.name = name
        self.debug = debug

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.name else self.message


class OdooRpc:
    def __init__(self, url: str, db: str, login: str, password: str, timeout: float = 120):
        self.url = url.rstrip("/")
        self.db = db
        self.login = login
        self.password = password
        self.timeout = timeout
        self.session = requests.Session()
        self.uid: int | None = None
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"OdooRpc({self.url!r}, {self.db!r}, {self.login!r}, uid={self.uid})"

    def jsonrpc(self, path: str, params: dict[str, Any]) -> Any:
        """POST one JSON-RPC call to ``path``; return its result or raise OdooRpcError."""
        payload = {"jsonrpc": "2.0", "method": "call", "id": next(self._ids), "params": params}
        response = self.session.post(self.url + path, json=payload, timeout=self.timeout)
        response.raise_for_status()
        body = response.json()
        error = body.get("error")
        if error:
            data = error.get("data") or {}
            raise OdooRpcError(data.get("message") or error.get("message") or str(error),
                               name=data.get("name", ""), debug=data.get("debug", ""))
        return body.get("result")

    def authenticate(self) -> int:
        result = self.jsonrpc("/web/session/authenticate",
                              {"db": self.db, "login": self.login, "password": self.password})
        uid = (result or {}).get("uid")
        if not uid:
            raise OdooRpcError(f"login {self.login!r} on database {self.db!r} failed")
        self.uid = uid
        return uid

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``model.method(*args, **kwargs)`` as the logged-in user (log in on first use)."""
        if self.uid is None:
            self.authenticate()
        params = {"model": model, "method": method, "args": list(args), "kwargs": kwargs}
        path = f"/web/dataset/call_kw/{model}/{method}"
        try:
            return self.jsonrpc(path, params)
        except OdooRpcError as exc:
            if "SessionExpired" not in exc.name:
                raise
        self.authenticate()
        return self.jsonrpc(path, params)

    def close(self) -> None:
        self.session.close()
