"""The customer's answer to the 1-5 satisfaction survey, read from a message."""

from __future__ import annotations

import re

SCORES = range(1, 6)
# interactive.list_message gives row n (0-based) titled "s" the id "n_s".
ROW_ID_RE = re.compile(r"^\d+_([1-5])$")
TEXT_SCORE_RE = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")


def score_of(message_type: str, reply_id: str | None, text: str | None) -> int:
    """1 to 5 when the message is a survey answer (a row tap or a bare digit), else 0."""
    if message_type == "interactive":
        match = ROW_ID_RE.match(reply_id or "")
    elif message_type == "text":
        match = TEXT_SCORE_RE.match(text or "")
    else:
        match = None
    return int(match.group(1)) if match else 0
