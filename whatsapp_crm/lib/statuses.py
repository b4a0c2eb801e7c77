"""How a delivery status moves an outbound message: one rule, for one status or a batch.

Statuses only move forward (sent < delivered < read; ``played`` counts as read); a
``failed`` keeps its code and text and is final unless the message was read; each
status dates its own column the first time it arrives, whatever the order.
"""

from __future__ import annotations

from datetime import datetime

from . import metrics

RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 2.5}
DATE_FIELDS = {
    "sent": "sent_at",
    "delivered": "delivered_at",
    "read": "read_at",
    "played": "read_at",
    "failed": "failed_at",
}


def advance(current: dict, status: str, timestamp: datetime | None, *,
            error_code: int | None = None, error_message: str | None = None) -> dict:
    """The values that apply ``status`` to an outbound message whose ``state`` and date
    columns are ``current``; empty when it changes nothing (a late or repeated status)."""
    if status not in RANK:
        return {}
    values = {}
    date_field = DATE_FIELDS.get(status)
    if date_field and not current.get(date_field) and timestamp:
        values[date_field] = timestamp
    state = current.get("state")
    if status == "failed":
        if state != "read":
            values.update(state="failed", error_code=error_code or 0,
                          error_message=error_message or False, **metrics.rate_values("failed"))
    elif state != "failed" and RANK[status] > RANK.get(state, 0):
        new_state = "read" if status == "played" else status
        values.update(state=new_state, **metrics.rate_values(new_state))
    return values
