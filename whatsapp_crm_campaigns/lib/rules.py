"""The rules a WhatsApp campaign follows, as pure functions (no Odoo import).

They are the decisions of the mailing engine (issue "Campaigns"): who is excluded and
why, how a recipient's message maps to Odoo's trace statuses, the frequency cap, Meta's
US marketing rule, and the pace of sending. The engine applies them in SQL and in its
scheduled action; these functions are their reference, tested on their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers

# Exclusion reasons, in the order they are checked: the first that applies is the one
# recorded (failure_type of a `cancel` trace).
NO_NUMBER = "whatsapp_crm_invalid_number"
BLACKLISTED = "whatsapp_crm_blacklisted"
OPTED_OUT = "whatsapp_crm_opted_out"
NO_CONSENT = "whatsapp_crm_no_consent"
US_MARKETING = "whatsapp_crm_us_marketing"
DUPLICATE = "whatsapp_crm_duplicate"
FREQUENCY_CAP = "whatsapp_crm_frequency_cap"
EXCLUSIONS = (NO_NUMBER, BLACKLISTED, OPTED_OUT, NO_CONSENT, US_MARKETING, DUPLICATE,
              FREQUENCY_CAP)

# Failures after a send (failure_type of an `error` or `bounce` trace).
USER_LIMIT = "whatsapp_crm_user_limit"  # 131049: rescheduled once before it counts
TEMPLATE_UNAVAILABLE = "whatsapp_crm_template_unavailable"
UNDELIVERABLE = "whatsapp_crm_undeliverable"  # 131026, a bounce
ERROR = "whatsapp_crm_error"
TEMPLATE_ERROR_CODES = frozenset({132000, 132001, 132005, 132007, 132012, 132015, 132016})


def exclusion(*, e164: str | None, blacklisted: bool, consent: str, transactional: bool,
              marketing: bool, seen_numbers: set[str], recent_marketing: int,
              cap: int | None) -> str | None:
    """Why a recipient is not sent to, or None. ``consent`` is the contact's
    ``whatsapp_opt_in`` (opted_in, opted_out, unknown); ``seen_numbers`` holds the
    numbers already kept for this mailing (one message per number), and is updated."""
    if not e164:
        return NO_NUMBER
    if blacklisted:
        return BLACKLISTED
    if consent == "opted_out":
        return OPTED_OUT  # never, not even for a transactional mailing
    if consent != "opted_in" and not transactional:
        return NO_CONSENT
    if marketing and is_us_number(e164):
        return US_MARKETING
    if e164 in seen_numbers:
        return DUPLICATE
    if marketing and cap is not None and recent_marketing >= cap:
        return FREQUENCY_CAP
    seen_numbers.add(e164)
    return None


def is_us_number(e164: str) -> bool:
    """Meta sends no marketing template to US numbers (since April 2025). Canada and
    the Caribbean share +1 and are not affected: the region decides, not the code."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) == "US"
    except phonenumbers.NumberParseException:
        return False


def failure_type(error_code: int | None) -> str:
    if error_code == 131049:
        return USER_LIMIT
    if error_code == 131026:
        return UNDELIVERABLE
    if error_code in TEMPLATE_ERROR_CODES:
        return TEMPLATE_UNAVAILABLE
    return ERROR


def trace_status(message_state: str | None, *, replied: bool = False,
                 error_code: int | None = None, excluded: bool = False) -> str:
    """A recipient's ``mailing.trace`` status, read the way Odoo's statistics read it:
    accepted by Meta = pending ("Sent"), delivered = sent ("Delivered"), read = open,
    replied = reply, failed = error (bounce for 131026), excluded = cancel; not sent
    yet = outgoing."""
    if excluded:
        return "cancel"
    if message_state == "failed":
        return "bounce" if error_code == 131026 else "error"
    if replied:
        return "reply"
    return {"sent": "pending", "delivered": "sent", "read": "open"}.get(
        message_state or "", "outgoing")


def recent_count(sent_at: Iterable[datetime], now: datetime, days: int) -> int:
    """Marketing messages a contact got in the rolling window of ``days`` days."""
    start = now - timedelta(days=days)
    return sum(1 for moment in sent_at if moment > start)


@dataclass
class TokenBucket:
    """The pace of one account: ``rate`` messages per second, bursts of ``burst``.

    130429 (throughput reached) slows it down; it speeds back up as sends succeed."""

    rate: float
    burst: float
    tokens: float = 0.0
    updated: float = 0.0
    ceiling: float = 0.0

    def __post_init__(self):
        self.ceiling = self.ceiling or self.rate
        self.tokens = self.burst

    def wait(self, now: float) -> float:
        """Seconds to wait before the next send; takes its token when 0."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    def throttled(self) -> None:
        self.rate = max(self.rate / 2, 1.0)

    def succeeded(self) -> None:
        self.rate = min(self.rate * 1.05, self.ceiling)
