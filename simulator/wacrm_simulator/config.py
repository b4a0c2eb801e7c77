"""Configuration objects for the Meta WhatsApp Cloud API simulator."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Account:
    """One WhatsApp business phone number (and the WABA that owns it)."""

    waba_id: str = "100000000000001"
    phone_number_id: str = "200000000000002"
    display_phone_number: str = "15550001111"
    access_token: str = "sim-token"
    app_secret: str = "sim-secret"
    webhook_url: str | None = None
    mps: int = 80
    verified_name: str = "Simulated Business"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        for key in ("waba_id", "phone_number_id", "display_phone_number"):
            if key in kwargs and kwargs[key] is not None:
                kwargs[key] = str(kwargs[key])
        return cls(**kwargs)


@dataclass
class SimulatorConfig:
    """Everything tunable about the simulator (all times in simulated seconds)."""

    accounts: list[Account] = field(default_factory=lambda: [Account()])
    host: str = "127.0.0.1"
    port: int = 0
    status_latency: float = 0.2
    read_probability: float = 1.0
    failure_rate: float = 0.0
    template_approval_delay: float = 1.0
    # message_template_limit in the template list's summary (250: unverified business)
    template_limit: int = 250
    pair_rate_burst: int = 45
    pair_rate_per_seconds: float = 6.0
    # "sync": free-form sends outside the 24-hour window get the 400 of older simulators
    # instead of Meta's 200 then a failed status (131047). Only for tests that need it.
    window_errors: str = "async"
    # Webhook redelivery (wall-clock seconds): Meta retries a non-200 with growing delays
    # for up to 7 days (cloud_api.md, pitfall 8). Delay n is backoff * factor**(n-1),
    # capped at backoff_max; no attempt starts after retry_horizon; webhook_retries, when
    # set, also caps the number of retries.
    webhook_retries: int | None = None
    webhook_backoff: float = 1.0
    webhook_backoff_factor: float = 2.0
    webhook_backoff_max: float = 300.0
    webhook_retry_horizon: float = 7 * 24 * 3600.0
    webhook_timeout: float = 10.0
    webhook_workers: int = 8
    max_body_bytes: int = 128 * 1024 * 1024
    media_url_ttl: float = 300.0
    journal_limit: int = 100_000  # max kept request/webhook records (oldest dropped)
    # Simulated clock: starts at ``clock_start`` (unix seconds, default: now) and
    # runs with wall time unless ``frozen_clock`` (then only advance_clock moves it).
    clock_start: float | None = None
    frozen_clock: bool = False
    seed: int | None = None
    templates: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    verbose: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimulatorConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown simulator config keys: {sorted(unknown)}")
        kwargs = dict(data)
        if "accounts" in kwargs:
            kwargs["accounts"] = [
                a if isinstance(a, Account) else Account.from_dict(a) for a in kwargs["accounts"]
            ]
        return cls(**kwargs)

    @classmethod
    def load(cls, path: str) -> SimulatorConfig:
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
