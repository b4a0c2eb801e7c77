"""Reading an Odoo 19 log: the test summary, failing and skipped tests, errors, tracebacks."""

from __future__ import annotations

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


@dataclasses.dataclass
class OdooLogReport:
    run: int | None = None  # None: no summary line, so the tests did not finish
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failing_tests: list[str] = dataclasses.field(default_factory=list)
    error_lines: list[str] = dataclasses.field(default_factory=list)
    tracebacks: int = 0


def parse_odoo_log(text: str) -> OdooLogReport:
    report = OdooLogReport()
    in_test_failure = False  # continuation lines of a FAIL:/ERROR: record are its traceback
    traceback: list[str] = []  # the traceback being read, outside test failures

    def end_traceback() -> None:
        if traceback:
            # the exception: the unindented lines after the last "  File ..." frame
            frames = [i for i, line in enumerate(traceback) if line.startswith("  File ")]
            tail = traceback[frames[-1] + 1:] if frames else traceback[1:]
            exception = [line.strip() for line in tail if line.strip() and line[0] != " "]
            report.error_lines.append(f"Traceback: {' / '.join(exception[:3])}"[:300])
            traceback.clear()

    for raw in text.splitlines():
        match = LOG_LINE_RE.match(raw)
        if not match:
            if raw.startswith("Traceback (most recent call last)") and not in_test_failure:
                report.tracebacks += 1
                end_traceback()
                traceback.append(raw)
            elif traceback:
                traceback.append(raw)
            continue
        end_traceback()
        in_test_failure = False
        level, logger, message = match["level"], match["logger"], match["message"].strip()
        summary = TEST_SUMMARY_RE.search(message) if logger == "odoo.tests.result" else None
        if summary:
            report.run = int(summary["run"])
            report.failed = int(summary["failed"])
            report.errors = int(summary["errors"])
            continue
        if level == "INFO" and TEST_SKIP_RE.match(message):
            report.skipped += 1
            continue
        if level not in ("ERROR", "CRITICAL"):
            continue
        failure = TEST_FAILURE_RE.match(message)
        if failure:
            in_test_failure = True
            report.failing_tests.append(f"{failure['kind']}: {failure['test']}")
        elif not TEST_CONSEQUENCE_RE.match(message):
            report.error_lines.append(f"{level} {logger}: {message}"[:300])
    end_traceback()
    return report
