"""CLI: ``wacrm-simulator --host 127.0.0.1 --port 8790 --config sim.json``.

The same as ``python3 -m wacrm_simulator ...``; ``--help`` lists every option.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .config import Account, SimulatorConfig
from .customers import ScriptRunner
from .server import Simulator

ACCOUNT_FLAGS = ("webhook_url", "app_secret", "access_token", "phone_number_id", "waba_id",
                 "display_phone_number")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wacrm-simulator",
                                     description="Meta WhatsApp Cloud API simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--config", help="JSON config file (SimulatorConfig fields)")
    parser.add_argument("--script", choices=["demo"], help="run scripted customers")
    parser.add_argument("--script-interval", type=float, default=8.0,
                        help="seconds between scripted customer messages")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quiet", action="store_true", help="no per-request log lines")
    for flag in ACCOUNT_FLAGS:
        parser.add_argument("--" + flag.replace("_", "-"), dest=flag, default=None,
                            help=f"account {flag} (defines/overrides the first account)")
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> SimulatorConfig:
    config = SimulatorConfig.load(args.config) if args.config else SimulatorConfig()
    overrides = {k: getattr(args, k) for k in ACCOUNT_FLAGS if getattr(args, k) is not None}
    if overrides:
        base = config.accounts[0] if args.config and config.accounts else Account()
        merged = Account.from_dict({**base.__dict__, **overrides})
        config.accounts = [merged, *config.accounts[1:]] if args.config else [merged]
    config.host = args.host
    config.port = args.port
    if args.seed is not None:
        config.seed = args.seed
    return config


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = build_config(args)
    log = None if args.quiet else (lambda line: print(line, flush=True))
    sim = Simulator(config, log=log or (lambda _line: None))
    sim.start()
    print(f"WhatsApp Cloud API simulator on {sim.base_url}", flush=True)
    for acc in config.accounts:
        print(f"  phone_number_id={acc.phone_number_id} waba_id={acc.waba_id} "
              f"display={acc.display_phone_number} webhook={acc.webhook_url or '-'}",
              flush=True)
    runner = None
    if args.script == "demo":
        runner = ScriptRunner(sim, interval=args.script_interval, seed=config.seed).start()
    done = threading.Event()

    def _stop(*_):
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while not done.wait(0.5):
        pass
    if runner:
        runner.stop()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
