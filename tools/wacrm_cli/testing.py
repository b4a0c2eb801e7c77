"""The ``test`` command: lint, the pytest suites, Odoo tests, integration, upstream; totals."""

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
from collections.abc import Callable, Sequence
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
from .odoo_log import LogFollower, OdooLogReport, parse_odoo_log
from .processes import free_port, run_with_progress, spawn, stop, wait_http_ok, wait_websocket
from .project import ARTIFACTS, REPO, WacrmError, present_addons, say

SUITES = ("lint", "unit", "simulator", "odoo", "integration", "odoo-upstream")
PYTEST_SUITES = {"unit": "tests/unit", "simulator": "tests/simulator_tests"}

# odoo-upstream: the Python tests of the Odoo modules our addons extend, run with our
# addons installed (add "mass_mailing", "mass_mailing_crm" here when we extend them).
UPSTREAM_MODULES = ("crm", "phone_validation")
# Their browser tours are left out (test classes; see odoo/tests/tag_selector.py for
# the -[tag][/module][:class][.method] syntax): crm's TestUi classes
# (test_crm_ui.py, test_sales_team_ui.py) are HttpCase tours.
UPSTREAM_EXCLUDED = ("-/crm:TestUi",)
# The live server of the integration suite
INTEGRATION_WORKERS = 2
INTEGRATION_CRON_WORKERS = 1


@dataclasses.dataclass
class SuiteResult:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    ok: bool = True
    note: str = ""
    seconds: float = 0.0

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


def run_pytest(name: str, folder: str, env: dict[str, str] | None = None,
               while_running: Callable[[], None] | None = None) -> SuiteResult:
    """pytest on folder; the totals come from its junit file, not from its output.

    while_running, if given, is called every few seconds until pytest ends.
    """
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
    proc = subprocess.Popen(cmd, cwd=REPO, env=env)
    try:
        while True:
            try:
                rc = proc.wait(5)
                break
            except subprocess.TimeoutExpired:
                if while_running is not None:
                    while_running()
    finally:
        if proc.poll() is None:  # interrupted
            proc.kill()
            proc.wait()
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
    return run_odoo_bin(odoo, name, db, data_dir, secret_key, addons, tags, log_name, addons)


def run_odoo_bin(odoo: Odoo, name: str, db: str, data_dir: Path, secret_key: str,
                 install: Sequence[str], tags: str | None, log_name: str,
                 check_installed: Sequence[str]) -> SuiteResult:
    """odoo-bin --stop-after-init on db: -i install (none: the database as it is), the
    tests selected by tags (None: no test); then check its log and check_installed."""
    result = SuiteResult(name)
    log_path = ARTIFACTS / log_name
    log_path.unlink(missing_ok=True)
    # free ports: an install with --stop-after-init still binds its HTTP server
    args = ["--stop-after-init", f"--data-dir={data_dir}",
            "--http-interface=127.0.0.1", f"--http-port={free_port()}",
            f"--gevent-port={free_port()}", "--log-level=info"]
    described = f"odoo-bin -d {db}"
    if install:
        args[:0] = ["-i", ",".join(install)]
        described += f" -i {','.join(install)}"
    if tags is not None:
        args.insert(0, f"--test-tags={tags}")
        described += f" --test-tags {tags}"
    say(f"== {name}: {described}  (log: {log_path})")
    started = time.monotonic()
    proc = spawn(odoo.command(db, *args), log_path, env=odoo_env(secret_key))
    try:
        rc = run_with_progress(proc, log_path, name, ODOO_TEST_TIMEOUT)
    finally:
        stop(proc, name)
    result.seconds = time.monotonic() - started
    report = parse_odoo_log(log_path.read_text(errors="replace"))
    say(f"   {name} finished in {result.seconds:.0f}s, exit code {rc}")

    states = module_states(db, check_installed)
    not_installed = [m for m in check_installed if states.get(m) != "installed"]
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
        result.passed = len(check_installed) - len(not_installed)
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


class ServerLogWatch:
    """Follows the log of a live Odoo server: says at once what goes wrong, judges at the end.

    Tracebacks (logged, or printed by a process dying) and processes of a prefork
    server starting again and again fail the suite; ERROR lines without a traceback
    are only reported (some tests provoke them on purpose).
    """

    MAX_LIVE = 10  # distinct exceptions said as they come; the rest only in the summary

    def __init__(self, log_path: Path, label: str, workers: int, cron_workers: int) -> None:
        self.log_path = log_path
        self.label = label
        self.workers = workers
        self.cron_workers = cron_workers
        self.follower = LogFollower(log_path)
        self.said_exceptions: set[str] = set()
        self.said_problems: set[str] = set()

    def poll(self, final: bool = False) -> OdooLogReport:
        new = self.follower.poll(final=final)
        for exception in new.exceptions:
            if exception in self.said_exceptions:
                continue  # the same again (a crash loop): counted in the summary
            self.said_exceptions.add(exception)
            if len(self.said_exceptions) <= self.MAX_LIVE:
                say(f"!! {self.label} logged a traceback: {exception[:200]}")
            elif len(self.said_exceptions) == self.MAX_LIVE + 1:
                say(f"!! {self.label}: more tracebacks, see {self.log_path}")
        total = self.follower.total
        for problem in total.restart_problems(self.workers, self.cron_workers,
                                              finished=final):
            if problem not in self.said_problems:
                self.said_problems.add(problem)
                say(f"!! {self.label}: {problem}")
        return total

    def judge(self, result: SuiteResult) -> None:
        """Read the log to its end; fail result for tracebacks and restart loops."""
        total = self.poll(final=True)
        problems = total.restart_problems(self.workers, self.cron_workers)
        errors = [line for line in total.error_lines if not line.startswith("Traceback: ")]
        if total.tracebacks:
            result.fail(f"{self.label} log: {total.traceback_summary()}")
        if problems:
            result.fail(f"{self.label}: {'; '.join(problems)}")
        if errors:
            say(f"   note: {len(errors)} ERROR line(s) in {self.log_path}; first: "
                f"{errors[0][:200]}")
        if total.tracebacks or problems:
            say(f"   {self.label}: see {self.log_path}")


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
    cmd = odoo.command(db, f"--db-filter=^{db}$", f"--workers={INTEGRATION_WORKERS}",
                       f"--max-cron-threads={INTEGRATION_CRON_WORKERS}",
                       f"--http-port={port}", "--http-interface=127.0.0.1",
                       f"--gevent-port={gevent_port}", f"--data-dir={data_dir}",
                       "--log-level=info")
    say(f"== integration: odoo server on {url} (log: {log_path})")
    watch = ServerLogWatch(log_path, "odoo server", INTEGRATION_WORKERS,
                           INTEGRATION_CRON_WORKERS)
    server = spawn(cmd, log_path, env=odoo_env(secret_key))
    websocket_error = None
    try:
        try:
            wait_http_ok(f"{url}/web/health", server, log_path)
        except WacrmError as exc:
            result = SuiteResult("integration")
            result.fail(f"the server did not start: {str(exc).splitlines()[0]}")
            say(f"   {exc}")
            return result
        try:
            wait_websocket("127.0.0.1", gevent_port, server, log_path)
        except WacrmError as exc:
            websocket_error = str(exc).splitlines()[0]
            say(f"!! {exc}")
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
            # a second server on the same database shares the filestore (two-server test)
            "WACRM_ODOO_DATA_DIR": str(data_dir),
        })
        result = run_pytest("integration", folder, env=env, while_running=watch.poll)
    finally:
        stop(server, "odoo server")
    if websocket_error:
        result.fail(websocket_error)
    watch.judge(result)
    return result


def run_upstream(odoo: Odoo, addons: list[str], keep_db: bool) -> list[SuiteResult]:
    """The tests of UPSTREAM_MODULES on a new database with our addons: while installing
    (-i), then again on that installed database (no -i/-u), as after a deployment."""
    tags = ",".join([f"/{m}" for m in UPSTREAM_MODULES] + list(UPSTREAM_EXCLUDED))
    db = f"wacrm_upstream_{secrets.token_hex(4)}"
    data_dir = Path(tempfile.mkdtemp(prefix=f"{db}-"))
    secret_key = fernet_key()
    modules = [*addons, *(m for m in UPSTREAM_MODULES if m not in addons)]
    results = []
    try:
        at_install = run_odoo_bin(odoo, "odoo-upstream (at install)", db, data_dir, secret_key,
                                  modules, tags, "odoo-upstream-install.log", modules)
        results.append(at_install)
        states = module_states(db, modules)
        if all(states.get(m) == "installed" for m in modules):
            results.append(run_odoo_bin(odoo, "odoo-upstream (installed db)", db, data_dir,
                                        secret_key, (), tags, "odoo-upstream-db.log", modules))
        else:
            results.append(SuiteResult("odoo-upstream (installed db)", ok=False, failed=1,
                                       note="not run: the modules did not install"))
        say(f"   odoo-upstream took {sum(r.seconds for r in results):.0f}s")
    finally:
        drop_or_keep(db, data_dir, keep_db)
    return results


def drop_or_keep(db: str, data_dir: Path, keep: bool) -> None:
    """Drop a throwaway database and its data dir, or say how to drop them later."""
    if keep:
        say(f"kept database {db} (data dir {data_dir}); drop it with "
            f"`dropdb --force {db} && rm -rf {data_dir}`")
    else:
        pg_drop(db)
        shutil.rmtree(data_dir, ignore_errors=True)


def cmd_test(args: argparse.Namespace) -> int:
    only = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else list(SUITES)
    unknown = set(only) - set(SUITES)
    if unknown:
        raise WacrmError(f"unknown suite(s) {', '.join(sorted(unknown))}; "
                         f"choose from {','.join(SUITES)}")
    needs_odoo = bool({"odoo", "integration", "odoo-upstream"} & set(only))
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

    addons = present_addons()
    if odoo is not None and not addons:
        raise WacrmError("no addon of the suite found in the repository")
    if odoo is not None and ({"odoo", "integration"} & set(only)):
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
            drop_or_keep(db, data_dir, args.keep_db)
    if odoo is not None and "odoo-upstream" in only:
        results += run_upstream(odoo, addons, args.keep_db)

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
