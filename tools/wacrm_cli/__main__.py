"""The project's command line: ``deps``, ``test``, ``run`` (the demo) and ``bench``.

Odoo 19.0 is found through the environment variable ODOO_PATH, else /opt/odoo19.
Only the standard library and ``requests`` are used, so the tool runs with the
same Python as Odoo; ``deps`` needs the standard library only.

    python3 tools/wacrm.py deps [--force]
    python3 tools/wacrm.py test [--only lint,unit,simulator,odoo,integration,odoo-upstream]
                                [--keep-db]
    python3 tools/wacrm.py run [--port 8069] [--sim-port 8070] [--reset] [--interval 8]
    python3 tools/wacrm.py bench [--count 1000] [--concurrency 16] [--status-messages 600]
    python3 tools/wacrm.py bench-reports [--messages 200000] [--conversations 20000]
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from .bench import cmd_bench
from .bench_reports import cmd_bench_reports
from .demo import DEMO_DB, cmd_run
from .deps import cmd_deps
from .processes import raise_interrupt, stop_all_children
from .project import WacrmError, say
from .testing import SUITES, cmd_test


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wacrm", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    deps = sub.add_parser("deps", help="pip install our requirements and Odoo's into this Python")
    deps.add_argument("--force", action="store_true",
                      help="run pip even if these requirement files were installed already")
    deps.set_defaults(func=cmd_deps)

    test = sub.add_parser("test", help="lint, unit, simulator, Odoo, integration and the "
                          "upstream modules' tests")
    test.add_argument("--only", help=f"comma-separated suites among {','.join(SUITES)}")
    test.add_argument("--keep-db", action="store_true", help="keep the throwaway databases")
    test.add_argument("--odoo-tags", help="--test-tags for odoo-bin in the odoo suite "
                      "(default: the addons)")
    test.set_defaults(func=cmd_test)

    run = sub.add_parser("run", help="the demo: Odoo + the simulator writing as customers")
    run.add_argument("--port", type=int, default=8069, help="Odoo HTTP port (8069)")
    run.add_argument("--sim-port", type=int, default=8070, help="simulator port (8070)")
    run.add_argument("--reset", action="store_true", help=f"drop and recreate {DEMO_DB}")
    run.add_argument("--interval", type=float, default=8,
                     help="seconds between two customer messages (8)")
    run.set_defaults(func=cmd_run)

    bench = sub.add_parser("bench", help="the webhook pipeline under load (throwaway server)")
    bench.add_argument("--count", type=int, default=1000,
                       help="messages from existing customers (1000)")
    bench.add_argument("--concurrency", type=int, default=16, help="client connections (16)")
    bench.add_argument("--customers", type=int, default=200, help="existing customers (200)")
    bench.add_argument("--status-messages", type=int, default=2000,
                       help="messages whose delivered and read statuses are flooded (2000)")
    bench.add_argument("--mix-messages", type=int, default=3000,
                       help="messages of the status flood the latency is sampled under (3000)")
    bench.add_argument("--drain-timeout", type=float, default=900,
                       help="seconds to wait for a flood to be processed (900)")
    bench.add_argument("--keep-db", action="store_true", help="keep the throwaway database")
    bench.set_defaults(func=cmd_bench)

    reports = sub.add_parser("bench-reports", help="time the inbox, forms and reports on 200k "
                             "messages (throwaway server)")
    reports.add_argument("--conversations", type=int, default=20_000)
    reports.add_argument("--messages", type=int, default=200_000)
    reports.add_argument("--big", type=int, default=5_000,
                         help="messages of the longest conversation (5000)")
    reports.add_argument("--runs", type=int, default=5, help="timed calls per measure (5)")
    reports.add_argument("--keep-db", action="store_true", help="keep the throwaway database")
    reports.set_defaults(func=cmd_bench_reports)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGINT explicitly too: a shell starting us in the background ignores it by default
    signal.signal(signal.SIGINT, raise_interrupt)
    signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        return args.func(args)
    except WacrmError as exc:
        say(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        stop_all_children()


if __name__ == "__main__":
    sys.exit(main())
