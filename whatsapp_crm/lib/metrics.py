"""Figures stored on messages and conversations for the reports.

The rates are 100 or 0 on outbound messages and NULL on inbound ones, so that their
average over a group of messages is the percentage delivered, read or failed.
"""

from __future__ import annotations

DELIVERED_STATES = frozenset({"delivered", "read"})
# Messages that do not answer the customer.
NOT_A_RESPONSE_TYPES = frozenset({"reaction", "system"})


def rate_values(state: str) -> dict[str, int]:
    return {
        "delivered_rate": 100 if state in DELIVERED_STATES else 0,
        "read_rate": 100 if state == "read" else 0,
        "failed_rate": 100 if state == "failed" else 0,
    }


def is_first_response(*, cycle_started: bool, already_answered: bool, message_type: str,
                      automatic: bool) -> bool:
    """Whether an outbound message answers the customer's current cycle for the first time."""
    return (
        cycle_started
        and not already_answered
        and message_type not in NOT_A_RESPONSE_TYPES
        and not automatic
    )


def starts_cycle(*, cycle_started: bool, resolved: bool) -> bool:
    """Whether a customer message starts a new cycle (first one, or after a resolution)."""
    return not cycle_started or resolved
