"""How a delivery status moves an outbound message (lib/statuses.py)."""

from datetime import datetime

import pytest

from lib import statuses

T1, T2, T3 = (datetime(2026, 1, 1, 0, 0, s) for s in (10, 20, 30))


def apply_all(events, start="sent"):
    """Apply (status, timestamp[, code, text]) in order, as a batch does."""
    current = {"state": start}
    for status, timestamp, *error in events:
        current.update(statuses.advance(current, status, timestamp, error_code=error[0]
                                        if error else None,
                                        error_message=error[1] if error else None))
    return current


@pytest.mark.parametrize("order", [
    [("sent", T1), ("delivered", T2), ("read", T3)],
    [("read", T3), ("delivered", T2), ("sent", T1)],
    [("delivered", T2), ("read", T3), ("sent", T1), ("delivered", T2)],
])
def test_statuses_only_move_forward_and_each_dates_its_column(order):
    current = apply_all(order, start="queued")
    assert current["state"] == "read"
    assert (current["sent_at"], current["delivered_at"], current["read_at"]) == (T1, T2, T3)
    assert (current["delivered_rate"], current["read_rate"]) == (100, 100)


def test_a_repeated_status_changes_nothing():
    current = {"state": "delivered", "delivered_at": T2}
    assert statuses.advance(current, "delivered", T3) == {}
    assert statuses.advance(current, "sent", T1) == {"sent_at": T1}


def test_failed_keeps_code_and_text_and_is_final_unless_read():
    current = apply_all([("failed", T2, 131047, "Re-engagement message — 24 hours"),
                         ("delivered", T3)])
    assert (current["state"], current["error_code"], current["error_message"]) == (
        "failed", 131047, "Re-engagement message — 24 hours")
    assert current["failed_rate"] == 100 and "delivered_at" in current  # dated, not moved
    read_then_failed = apply_all([("read", T2), ("failed", T3, 131026, "x")])
    assert read_then_failed["state"] == "read" and "error_code" not in read_then_failed


def test_played_counts_as_read_and_unknown_statuses_are_ignored():
    assert apply_all([("played", T2)])["state"] == "read"
    assert statuses.advance({"state": "sent"}, "deleted", T1) == {}
