"""Unit tests of whatsapp_crm_campaigns/lib/rules.py (pure Python, no Odoo)."""

import importlib.util
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "whatsapp_crm_campaigns" / "lib" / "rules.py"
_SPEC = importlib.util.spec_from_file_location("wacrm_campaign_rules", _PATH)
rules = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = rules  # dataclasses look their module up while executing it
_SPEC.loader.exec_module(rules)

BR, US, CA = "+5511987654321", "+12025550123", "+14165550123"


def _exclusion(e164=BR, blacklisted=False, consent="opted_in", transactional=False,
               marketing=True, seen=None, recent=0, cap=4):
    return rules.exclusion(e164=e164, blacklisted=blacklisted, consent=consent,
                           transactional=transactional, marketing=marketing,
                           seen_numbers=set() if seen is None else seen,
                           recent_marketing=recent, cap=cap)


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({}, None),
    ({"e164": None}, rules.NO_NUMBER),
    ({"blacklisted": True}, rules.BLACKLISTED),
    ({"consent": "opted_out"}, rules.OPTED_OUT),
    ({"consent": "opted_out", "transactional": True}, rules.OPTED_OUT),
    ({"consent": "unknown"}, rules.NO_CONSENT),
    ({"consent": "unknown", "transactional": True, "marketing": False}, None),
    ({"e164": US}, rules.US_MARKETING),
    ({"e164": US, "marketing": False}, None),
    ({"e164": CA}, None),
    ({"seen": {BR}}, rules.DUPLICATE),
    ({"recent": 4}, rules.FREQUENCY_CAP),
    ({"recent": 4, "marketing": False}, None),
    ({"recent": 40, "cap": None}, None),
])
def test_exclusion_reasons(kwargs, reason):
    assert _exclusion(**kwargs) == reason


def test_the_first_reason_wins_and_one_message_per_number():
    seen = set()
    assert _exclusion(e164=US, consent="unknown", seen=seen) == rules.NO_CONSENT
    assert _exclusion(seen=seen) is None and seen == {BR}
    assert _exclusion(seen=seen) == rules.DUPLICATE


@pytest.mark.parametrize(("state", "kwargs", "status"), [
    (None, {}, "outgoing"), ("queued", {}, "outgoing"), ("sent", {}, "pending"),
    ("delivered", {}, "sent"), ("read", {}, "open"), ("read", {"replied": True}, "reply"),
    ("failed", {"error_code": 131026}, "bounce"), ("failed", {"error_code": 131049}, "error"),
    (None, {"excluded": True}, "cancel"),
])
def test_trace_status_reads_like_odoo_statistics(state, kwargs, status):
    assert rules.trace_status(state, **kwargs) == status


@pytest.mark.parametrize(("code", "failure"), [
    (131049, rules.USER_LIMIT), (131026, rules.UNDELIVERABLE),
    (132001, rules.TEMPLATE_UNAVAILABLE), (131000, rules.ERROR), (None, rules.ERROR),
])
def test_failure_types(code, failure):
    assert rules.failure_type(code) == failure


def test_frequency_window_is_rolling():
    now = datetime(2026, 12, 1, 12, 0)
    sent = [now - timedelta(days=d, minutes=1) for d in (0, 3, 6, 7, 10)]
    assert rules.recent_count(sent, now, days=7) == 3


def test_token_bucket_paces_and_slows_down_on_130429():
    bucket = rules.TokenBucket(rate=80, burst=1)
    assert bucket.wait(0.0) == 0.0
    assert bucket.wait(0.0) == pytest.approx(1 / 80)
    assert bucket.wait(1 / 80) == 0.0
    bucket.throttled()
    assert bucket.rate == 40
    for _ in range(100):
        bucket.succeeded()
    assert bucket.rate == 80  # never above the configured ceiling
