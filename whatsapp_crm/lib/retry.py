"""One retry policy for deferred work: webhook events, outbound sends, media downloads.

Exponential backoff with jitter, capped, or the delay the remote side asked for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float
    jitter: float = 0.5  # the delay is drawn in [1 - jitter, 1 + jitter] times the backoff

    def can_retry(self, attempts: int) -> bool:
        """After ``attempts`` failed attempts, whether another one is allowed."""
        return attempts < self.max_attempts

    def delay(self, attempts: int, retry_after: float | None = None,
              rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1 for the first)."""
        if retry_after:
            return float(retry_after)
        # The exponent is bounded: a float base times 2**1024 would overflow, not cap.
        doublings = min(max(attempts - 1, 0), 64)
        backoff = min(self.max_seconds, self.base_seconds * 2 ** doublings)
        if not self.jitter:
            return backoff
        draw = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return min(self.max_seconds, backoff * draw)


# Meta answers again within seconds; a customer's message must not wait long.
SEND_POLICY = RetryPolicy(max_attempts=8, base_seconds=5, max_seconds=3600)
# A failed webhook event is usually our bug or a missing record: minutes, then hours.
EVENT_POLICY = RetryPolicy(max_attempts=6, base_seconds=60, max_seconds=6 * 3600, jitter=0.2)
# Meta keeps inbound media for 7 days (its media reference); a few tries, spread out.
MEDIA_POLICY = RetryPolicy(max_attempts=5, base_seconds=30, max_seconds=3600)
