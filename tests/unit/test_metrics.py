"""Figures stored for the reports (lib/metrics.py)."""

import pytest

from lib import metrics


@pytest.mark.parametrize(("state", "delivered", "read", "failed"), [
    ("queued", 0, 0, 0),
    ("sent", 0, 0, 0),
    ("delivered", 100, 0, 0),
    ("read", 100, 100, 0),
    ("failed", 0, 0, 100),
    ("", 0, 0, 0),
])
def test_rate_values(state, delivered, read, failed):
    assert metrics.rate_values(state) == {
        "delivered_rate": delivered, "read_rate": read, "failed_rate": failed}


def test_rates_average_to_percentages():
    states = ["read", "delivered", "sent", "failed"]
    rows = [metrics.rate_values(state) for state in states]
    average = {key: sum(row[key] for row in rows) / len(rows) for key in rows[0]}
    assert average == {"delivered_rate": 50, "read_rate": 25, "failed_rate": 25}


def first_response(**overrides):
    values = {"cycle_started": True, "already_answered": False, "message_type": "text",
              "automatic": False, **overrides}
    return metrics.is_first_response(**values)


def test_first_human_answer_in_a_cycle_is_the_first_response():
    assert first_response()
    assert first_response(message_type="template")
    assert first_response(message_type="image")


@pytest.mark.parametrize("overrides", [
    {"cycle_started": False},  # nobody asked anything yet
    {"already_answered": True},
    {"message_type": "reaction"},
    {"message_type": "system"},
    {"automatic": True},  # auto-replies, surveys: not an agent's answer
])
def test_not_a_first_response(overrides):
    assert not first_response(**overrides)


@pytest.mark.parametrize(("cycle_started", "resolved", "starts"), [
    (False, False, True),  # the customer's first message
    (False, True, True),
    (True, True, True),  # writing again after a resolution
    (True, False, False),  # still in the open cycle
])
def test_starts_cycle(cycle_started, resolved, starts):
    assert metrics.starts_cycle(cycle_started=cycle_started, resolved=resolved) is starts
