"""Child processes: start them in their own process group, stop them, wait for them."""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from .odoo_log import LOG_LINE_RE
from .project import REPO, WacrmError, say

HEALTH_TIMEOUT = 180  # seconds for a server to answer its health route

# Every process spawn() started and stop() has not reaped: main() stops them on exit.
_children: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(cmd: Sequence[str], log_path: Path, env: dict[str, str] | None = None,
          cwd: Path = REPO) -> subprocess.Popen:
    """Start a command in its own process group, output appended to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(list(cmd), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                start_new_session=True)
    _children.append(proc)
    return proc


def stop(proc: subprocess.Popen | None, name: str = "process", timeout: float = 30) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if proc is None:
        return
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                if sig == signal.SIGTERM:
                    say(f"{name} did not stop in {timeout:.0f}s, killing it")
    # workers of a prefork server may outlive their master for a moment
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc in _children:
        _children.remove(proc)


def stop_all_children() -> None:
    for proc in list(_children):
        stop(proc, timeout=10)


def raise_interrupt(signum, frame):
    """Signal handler: SIGINT and SIGTERM unwind through the finally blocks that stop children."""
    raise KeyboardInterrupt


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_http_ok(url: str, proc: subprocess.Popen | None, log_path: Path | None,
                 timeout: float = HEALTH_TIMEOUT) -> None:
    import requests  # imported on use: commands that never wait on HTTP do not need it

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log_tail(log_path) if log_path else ""
            raise WacrmError(f"process exited with code {proc.returncode} before {url} "
                             f"answered; last log lines:\n{tail}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise WacrmError(f"{url} did not answer 200 within {timeout:.0f}s")


def websocket_status(host: str, port: int, timeout: float = 5) -> int | str:
    """The HTTP status of a websocket upgrade of /websocket (101: it works), or why none."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/websocket", headers={
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Origin": f"http://{host}:{port}",
        })
        return conn.getresponse().status
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    finally:
        conn.close()


def wait_websocket(host: str, port: int, proc: subprocess.Popen | None, log_path: Path | None,
                   timeout: float = 60) -> None:
    """Wait until /websocket on host:port (a gevent process) accepts an upgrade."""
    deadline = time.monotonic() + timeout
    status: int | str = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        status = websocket_status(host, port)
        if status == 101:
            return
        time.sleep(0.5)
    tail = f"\nlast lines of {log_path}:\n{log_tail(log_path, 15)}" if log_path else ""
    raise WacrmError(f"/websocket on {host}:{port} (the gevent process of --workers) did not "
                     f"accept an upgrade within {timeout:.0f}s (last: {status}){tail}")


def run_with_progress(proc: subprocess.Popen, log_path: Path, label: str,
                      timeout: float) -> int:
    """Wait for proc, saying every 30 s what its Odoo log says; stop it after timeout."""
    start = time.monotonic()
    while True:
        try:
            return proc.wait(30)
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                stop(proc, label)
                raise WacrmError(f"{label} still running after {timeout:.0f}s: stopped") from None
            last = log_tail(log_path, 1)
            match = LOG_LINE_RE.match(last)
            say(f"   … {label} {elapsed:.0f}s: {match['message'][:100] if match else ''}")
