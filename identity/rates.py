"""Counting limits written as text ("100 per hour"): one parser for settings and policies.

Strict on purpose: a limit that guards against guessing must mean exactly what it says, so
"0 per hour", "100 per fortnight" or two limits in one string are refused rather than read
as something else.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import timedelta

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d{1,9})\s*(?:per|/)\s*(?:(\d{1,4})\s+)?(second|minute|hour|day)s?\s*$", re.IGNORECASE)
FORMAT = "N per [M] second|minute|hour|day, e.g. '100 per hour'"
# Counts are kept only as long as their window, so a window is bounded too.
MAX_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Rate:
    """At most `amount` events in any window of `window` (a sliding window)."""

    amount: int
    window: timedelta

    def __str__(self) -> str:
        seconds = int(self.window.total_seconds())
        for unit, size in reversed(_UNITS.items()):
            if seconds % size == 0:
                count = seconds // size
                return f"{self.amount} per {unit}" if count == 1 else f"{self.amount} per {count} {unit}s"
        raise AssertionError("a window is a whole number of seconds")


@functools.lru_cache(maxsize=256)  # read on every registration; few distinct values
def parse_rate(text: str) -> Rate:
    """Raise ValueError with a one-line reason unless `text` is one positive rate."""
    match = _RATE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"expected {FORMAT}")
    amount, multiple = int(match[1]), int(match[2] or 1)
    if amount < 1 or multiple < 1:
        raise ValueError("the count and the window must be at least 1")
    window = timedelta(seconds=multiple * _UNITS[match[3].lower()])
    if window > MAX_WINDOW:
        raise ValueError("the window must be at most 30 days")
    return Rate(amount, window)
