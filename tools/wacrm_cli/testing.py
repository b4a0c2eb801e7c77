"""The ``test`` command: lint, the pytest suites, Odoo's own tests, integration; totals."""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from .odoo import (
    ODOO_TEST_TIMEOUT,
    Odoo,
    fernet_key,
    find_odoo,
    module_states,
    odoo_env,
    pg_available,
    pg_drop,
)
from .odoo_log import parse_odoo_log
from .processes import free_port, run_with_progress, spawn, stop, wait_http_ok
from .project import ARTIFACTS, REPO, WacrmError, present_addons, say

SUITES = ("lint", "unit", "simulator", "odoo", "integration")
PYTEST_SUITES = {"unit": "tests/unit", "simulator": "tests/simulator_tests"}


@dataclasses.dataclass
class SuiteResult:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    ok: bool = True
    note: str = ""

    def line(self) -> str:
        if self.name == "lint" and self.ok:
            text = "lint: ok"
        else:
            text = f"{self.name}: {self.passed} passed, {self.failed} failed"
            if self.skipped:
                text += f", {self.skipped} skipped"
        if self.note:
            text += f" ({self.note})"
        return text

    def fail(self, note: str) -> None:
        """Mark the suite failed for a reason besides failing tests (it counts as 1 failure)."""
        self.ok = False
        self.failed = max(self.failed, 1)
        self.note = f"{self.note}; {note}" if self.note else note


def run_lint() -> SuiteResult:
    result = SuiteResult("lint")
    say("== lint: ruff check .")
    if subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO,
                      check=False).returncode == 0:
        result.passed += 1
    else:
        result.failed += 1
        result.ok = False
        result.note = "ruff failed"
    addons = present_addons()
    if addons:
        say(f"== lint: pylint (pylint-odoo, .pylintrc) on {', '.join(addons)}")
        rc = subprocess.run([sys.executable, "-m", "pylint", "--rcfile=.pylintrc", *addons],
                            cwd=REPO, check=False).returncode
        if rc == 0:
            result.passed += 1
        else:
            result.failed += 1
            result.ok = False
            result.note = f"{result.note}; pylint failed" if result.note else "pylint failed"
    if result.ok:
        result.note = ""
    return result


def _has_tests(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("test_*.py"))


def run_pytest(name: str, folder: str, env: dict[str, str] | None = None) -> SuiteResult:
    """pytest on folder; the totals come from its junit file, not from its output."""
    result = SuiteResult(name)
    path = REPO / folder
    if not _has_tests(path):
        result.note = f"no tests in {folder}"
        return result
    ARTIFACTS.mkdir(exist_ok=True)
    junit = ARTIFACTS / f"junit-{name}.xml"
    junit.unlink(missing_ok=True)
    say(f"== {name}: pytest {folder}")
    cmd = [sys.executable, "-m", "pytest", folder, f"--junitxml={junit}", "-q"]
    rc = subprocess.run(cmd, cwd=REPO, env=env, check=False).returncode
    if rc == 5:  # no tests collected
        result.note = "no tests collected"
        return result
    if junit.is_file():
        tests = failures = errors = skipped = 0
        root = ET.parse(junit).getroot()
        for suite in root.iter("testsuite"):
            tests += int(suite.get("tests", 0))
            failures += int(suite.get("failures", 0))
            errors += int(suite.get("errors", 0))
            skipped += int(suite.get("skipped", 0))
        result.failed = failures + errors
        result.skipped = skipped
        result.passed = tests - failures - errors - skipped
    if rc != 0:
        result.fail(f"pytest exit code {rc}")
    return result


def run_odoo_tests(odoo: Odoo, db: str, data_dir: Path, secret_key: str, addons: list[str],
                   tags: str | None, log_name: str = "odoo-tests.log") -> SuiteResult:
    """Install the addons into a new database, running their tests unless tags is None."""
    name = "odoo" if tags is not None else "odoo-install"
    result = SuiteResult(name)
    log_path = ARTIFACTS / log_name
    log_path.unlink(missing_ok=True)
    # free ports: an install with --stop-after-init still binds its HTTP server
    args = ["-i", ",".join(addons), "--stop-after-init", f"--data-dir={data_dir}",
            "--http-interface=127.0.0.1", f"--http-port={free_port()}",
            f"--gevent-port={free_port()}", "--log-level=info"]
    if tags is not None:
        args.insert(2, f"--test-tags={tags}")
    cmd = odoo.command(db, *args)
    say(f"== {name}: odoo-bin -d {db} -i {','.join(addons)}"
        + (f" --test-tags {tags}" if tags is not None else "") + f"  (log: {log_path})")
    started = time.monotonic()
    proc = spawn(cmd, log_path, env=odoo_env(secret_key))
    try:
        rc = run_with_progress(proc, log_path, name, ODOO_TEST_TIMEOUT)
    finally:
        stop(proc, name)
    report = parse_odoo_log(log_path.read_text(errors="replace"))
    say(f"   {name} finished in {time.monotonic() - started:.0f}s, exit code {rc}")

    states = module_states(db, addons)
    not_installed = [m for m in addons if states.get(m) != "installed"]
    if tags is not None:
        run = report.run or 0
        result.failed = report.failed + report.errors
        result.skipped = report.skipped
        result.passed = max(run - result.failed - report.skipped, 0)
        if report.run is None:
            result.fail("no test summary line in the log")
        elif run == 0:
            result.fail("zero tests ran")
        if result.failed:
            result.ok = False
    else:
        result.passed = len(addons) - len(not_installed)
    for line in report.failing_tests:
        say(f"   {line}")
    if report.error_lines:
        for line in report.error_lines[:20]:
            say(f"   {line}")
        result.fail(f"{len(report.error_lines)} ERROR/CRITICAL log line(s) or traceback(s)")
    if report.tracebacks:
        result.fail(f"{report.tracebacks} traceback(s) in the log")
    if rc != 0:
        result.fail(f"odoo-bin exit code {rc}")
    if not_installed:
        result.fail("not installed: " + ", ".join(f"{m} ({states.get(m, 'missing')})"
                                                 for m in not_installed))
    if not result.ok:
        say(f"   see {log_path}")
    return result


def run_integration(odoo: Odoo, db: str, data_dir: Path, secret_key: str) -> SuiteResult:
    """Serve the installed database with workers, then pytest tests/integration against it."""
    folder = "tests/integration"
    if not _has_tests(REPO / folder):
        return SuiteResult("integration", note=f"no tests in {folder}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = ARTIFACTS / "odoo-server.log"
    log_path.unlink(missing_ok=True)
    gevent_port = free_port()
    cmd = odoo.command(db, f"--db-filter=^{db}$", "--workers=2", "--max-cron-threads=1",
                       f"--http-port={port}", "--http-interface=127.0.0.1",
                       f"--gevent-port={gevent_port}", f"--data-dir={data_dir}",
                       "--log-level=info")
    say(f"== integration: odoo server on {url} (log: {log_path})")
    server = spawn(cmd, log_path, env=odoo_env(secret_key))
    try:
        wait_http_ok(f"{url}/web/health", server, log_path)
        env = dict(os.environ)
        env.update({
            "WACRM_ODOO_URL": url,
            # /websocket (the bus) is served by the gevent process only, as behind a proxy
            "WACRM_ODOO_GEVENT_URL": f"http://127.0.0.1:{gevent_port}",
            "WACRM_ODOO_DB": db,
            "WACRM_ODOO_LOGIN": "admin",
            "WACRM_ODOO_PASSWORD": "admin",
            "WACRM_SECRET_KEY": secret_key,
            "ODOO_PATH": str(odoo.path),
        })
        result = run_pytest("integration", folder, env=env)
    finally:
        stop(server, "odoo server")
    # the server's own errors are reported, not counted: the tests provoke some on purpose
    server_errors = parse_odoo_log(log_path.read_text(errors="replace")).error_lines
    if server_errors:
        say(f"   note: {len(server_errors)} ERROR line(s) in {log_path}")
    return result


def cmd_test(args: argparse.Namespace) -> int:
    only = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else list(SUITES)
    unknown = set(only) - set(SUITES)
    if unknown:
        raise WacrmError(f"unknown suite(s) {', '.join(sorted(unknown))}; "
                         f"choose from {','.join(SUITES)}")
    needs_odoo = bool({"odoo", "integration"} & set(only))
    odoo = None
    if needs_odoo:
        odoo = find_odoo()
        say(f"Odoo {odoo.version} at {odoo.path}")
        pg_available()
    ARTIFACTS.mkdir(exist_ok=True)
    results: list[SuiteResult] = []
    started = time.monotonic()

    if "lint" in only:
        results.append(run_lint())
    for suite in ("unit", "simulator"):
        if suite in only:
            results.append(run_pytest(suite, PYTEST_SUITES[suite]))

    if odoo is not None:
        addons = present_addons()
        if not addons:
            raise WacrmError("no addon of the suite found in the repository")
        db = f"wacrm_test_{secrets.token_hex(4)}"
        data_dir = Path(tempfile.mkdtemp(prefix=f"{db}-"))
        secret_key = fernet_key()
        try:
            # integration reuses the database the odoo suite installed, else installs it
            installed = True
            if "odoo" in only:
                tags = args.odoo_tags or ",".join(f"/{a}" for a in addons)
                odoo_result = run_odoo_tests(odoo, db, data_dir, secret_key, addons, tags)
                results.append(odoo_result)
                installed = all(module_states(db, addons).get(a) == "installed" for a in addons)
            elif "integration" in only:
                install = run_odoo_tests(odoo, db, data_dir, secret_key, addons, None,
                                         log_name="odoo-install.log")
                installed = install.ok
                if not install.ok:
                    results.append(install)
            if "integration" in only:
                if installed:
                    results.append(run_integration(odoo, db, data_dir, secret_key))
                else:
                    results.append(SuiteResult("integration", ok=False, failed=1,
                                               note="not run: the addons did not install"))
        finally:
            if args.keep_db:
                say(f"kept database {db} (data dir {data_dir}); drop it with "
                    f"`dropdb --force {db} && rm -rf {data_dir}`")
            else:
                pg_drop(db)
                shutil.rmtree(data_dir, ignore_errors=True)

    say("")
    say(f"== summary ({time.monotonic() - started:.0f}s)")
    for result in results:
        say(result.line())
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    # a suite can fail without a failing test (exit code, error lines): never print 0 failed
    if not all(r.ok for r in results):
        failed = max(failed, 1)
    say(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
