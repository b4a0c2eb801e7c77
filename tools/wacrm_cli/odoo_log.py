"""Reading an Odoo 19 log: the test summary, failing and skipped tests, errors, tracebacks,
and the processes of a prefork server (``--workers``) starting again and again."""

from __future__ import annotations

import collections
import dataclasses
import re

# Odoo 19 log format: "2026-11-26 03:10:33,885 10623 ERROR db logger.name: message"
LOG_LINE_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) "
    r"(?P<logger>[\w.]+): ?(?P<message>.*)$"
)
# odoo.tests.result, logged once at the end by odoo/service/server.py
TEST_SUMMARY_RE = re.compile(
    r"(?P<failed>\d+) failed, (?P<errors>\d+) error\(s\) of (?P<run>\d+) tests "
    r"when loading database"
)
# odoo/tests/result.py logError(): "FAIL: TestClass.test_x" / "ERROR: TestClass.test_x"
TEST_FAILURE_RE = re.compile(r"^(?P<kind>FAIL|ERROR): (?P<test>\S+)")
TEST_SKIP_RE = re.compile(r"^skipped (?P<test>\S+)")
# ERROR lines that only restate failing tests already counted
TEST_CONSEQUENCE_RE = re.compile(
    r"^(Module \S+: \d+ failures, \d+ errors of \d+ tests"
    r"|At least one test failed when loading the modules"
    r"|\d+ failed, \d+ error\(s\) of \d+ tests when loading database)"
)

# odoo/service/server.py (logger odoo.service.server, INFO) in a prefork server: the
# gevent process serving /websocket, then each HTTP or cron worker, says it started...
GEVENT_START_RE = re.compile(r"^Evented Service \(longpolling\) running on ")
WORKER_START_RE = re.compile(r"^Worker (?P<kind>Worker\w+) \(\d+\) alive")
# ...or that it stops to be replaced, as a long-lived server does (limits, not crashes)
WORKER_RECYCLE_RE = re.compile(
    r"^Worker\w* \(\d+\) (max request|virtual memory limit|max age) \(")
GEVENT_RECYCLE_RE = re.compile(r"^Gevent virtual memory limit reached")
SERVER_LOGGER = "odoo.service.server"
# Respawned workers that make a loop: fewer may be a one-off (a worker killed by the
# kernel's OOM killer); timeouts and crashes also log ERROR lines with tracebacks.
WORKER_RESPAWN_LOOP = 3


@dataclasses.dataclass
class OdooLogReport:
    run: int | None = None  # None: no summary line, so the tests did not finish
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failing_tests: list[str] = dataclasses.field(default_factory=list)
    error_lines: list[str] = dataclasses.field(default_factory=list)
    tracebacks: int = 0
    # the last line of each of those tracebacks (the exception), in order
    exceptions: list[str] = dataclasses.field(default_factory=list)
    # prefork servers: processes started ("gevent", "WorkerHTTP", "WorkerCron") and
    # replaced for a limit ("gevent", "worker")
    starts: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    recycles: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def add(self, other: OdooLogReport) -> None:
        """Add the report of a later part of the same log (LogFollower)."""
        if other.run is not None:
            self.run = (self.run or 0) + other.run
        self.failed += other.failed
        self.errors += other.errors
        self.skipped += other.skipped
        self.failing_tests += other.failing_tests
        self.error_lines += other.error_lines
        self.tracebacks += other.tracebacks
        self.exceptions += other.exceptions
        self.starts.update(other.starts)
        self.recycles.update(other.recycles)

    def traceback_summary(self, most: int = 3) -> str:
        """'N traceback(s): 12x Exc: message; 1x Other' — most common exceptions first."""
        counts = collections.Counter(self.exceptions).most_common()
        parts = [f"{n}x {exc[:160]}" for exc, n in counts[:most]]
        if len(counts) > most:
            parts.append(f"{len(counts) - most} other exception(s)")
        return f"{self.tracebacks} traceback(s): {'; '.join(parts)}"

    def restart_problems(self, workers: int, cron_workers: int,
                         finished: bool = True) -> list[str]:
        """Processes of a server started with --workers=workers that keep starting again.

        Needs odoo.service.server at INFO in the log (--log-level=info, or
        --log-handler=odoo.service.server:INFO). finished: the whole log of a server
        that ran for more than a few seconds (else a gevent process not started yet is
        no problem).
        """
        if workers <= 0:
            return []  # threaded server: no gevent process, no workers
        problems = []
        gevent = self.starts["gevent"]
        if gevent == 0 and finished:
            problems.append("the gevent process (/websocket) never started serving")
        elif gevent > 1 + self.recycles["gevent"]:
            problems.append(f"the gevent process (/websocket) started {gevent} times")
        respawns = (max(self.starts["WorkerHTTP"] - workers, 0)
                    + max(self.starts["WorkerCron"] - cron_workers, 0)
                    - self.recycles["worker"])
        if respawns >= WORKER_RESPAWN_LOOP:
            problems.append(f"workers respawned {respawns} times without reaching a limit "
                            "(killed or crashed)")
        return problems


def _exception_lines(traceback: list[str]) -> list[str]:
    """The exception of a traceback: the unindented lines after its last "  File" frame."""
    frames = [i for i, line in enumerate(traceback) if line.startswith("  File ")]
    tail = traceback[frames[-1] + 1:] if frames else traceback[1:]
    return [line.strip() for line in tail if line.strip() and line[0] != " "]


def _chained(traceback: list[str]) -> bool:
    """Whether the traceback ends announcing another one (raise ... from, or during)."""
    lines = [line for line in traceback if line.strip()]
    return bool(lines) and lines[-1].startswith(CHAINED_PREFIXES)


CHAINED_PREFIXES = ("The above exception was the direct cause",
                    "During handling of the above exception")


def parse_odoo_log(text: str) -> OdooLogReport:
    report = OdooLogReport()
    in_test_failure = False  # continuation lines of a FAIL:/ERROR: record are its traceback
    traceback: list[str] = []  # the traceback being read, outside test failures

    def end_traceback() -> None:
        if traceback:
            exception = _exception_lines(traceback)
            # its first line names it (a second one may hold row data: DETAIL: ...)
            report.exceptions.append(exception[0] if exception else "(no exception line)")
            report.error_lines.append(f"Traceback: {' / '.join(exception[:3])}"[:300])
            traceback.clear()

    for raw in text.splitlines():
        match = LOG_LINE_RE.match(raw)
        if not match:
            if raw.startswith("Traceback (most recent call last)") and not in_test_failure:
                if not _chained(traceback):  # a chained one is the same traceback
                    end_traceback()
                    report.tracebacks += 1
                traceback.append(raw)
            elif traceback:
                traceback.append(raw)
            continue
        level, logger, message = match["level"], match["logger"], match["message"].strip()
        failure = TEST_FAILURE_RE.match(message) if level in ("ERROR", "CRITICAL") else None
        # A traceback printed by a dying process (gevent's, say) may be cut by records
        # of the others: it goes on until its exception line.
        if traceback and (failure or _exception_lines(traceback)):
            end_traceback()
        in_test_failure = False
        summary = TEST_SUMMARY_RE.search(message) if logger == "odoo.tests.result" else None
        if summary:
            report.run = int(summary["run"])
            report.failed = int(summary["failed"])
            report.errors = int(summary["errors"])
            continue
        if level == "INFO" and TEST_SKIP_RE.match(message):
            report.skipped += 1
            continue
        if logger == SERVER_LOGGER:
            _count_process(report, message)
        if level not in ("ERROR", "CRITICAL"):
            continue
        if failure:
            in_test_failure = True
            report.failing_tests.append(f"{failure['kind']}: {failure['test']}")
        elif not TEST_CONSEQUENCE_RE.match(message):
            report.error_lines.append(f"{level} {logger}: {message}"[:300])
    end_traceback()
    return report


def _count_process(report: OdooLogReport, message: str) -> None:
    if GEVENT_START_RE.match(message):
        report.starts["gevent"] += 1
    elif match := WORKER_START_RE.match(message):
        report.starts[match["kind"]] += 1
    elif WORKER_RECYCLE_RE.match(message):
        report.recycles["worker"] += 1
    elif GEVENT_RECYCLE_RE.match(message):
        report.recycles["gevent"] += 1


class LogFollower:
    """Reads a growing Odoo log in steps: each poll() reports the records added since.

    A record is only read once the next one has begun, so that a traceback is whole;
    poll(final=True) reads to the end. total adds up every poll.
    """

    # the start of a log record, in bytes: the offset stays a byte offset
    RECORD_START_RE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ [A-Z]+ ", re.M)

    def __init__(self, path) -> None:
        self.path = path
        self.offset = 0
        self.total = OdooLogReport()

    def poll(self, final: bool = False) -> OdooLogReport:
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                data = log.read()
        except OSError:
            return OdooLogReport()
        if not final:
            starts = [m.start() for m in self.RECORD_START_RE.finditer(data)]
            data = data[:starts[-1]] if starts else b""
        self.offset += len(data)
        report = parse_odoo_log(data.decode("utf-8", errors="replace"))
        self.total.add(report)
        return report
