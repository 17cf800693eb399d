"""A frozen, movable clock for tests: sanctions expire by the clock, and tests must not sleep."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest

import identity.clock


class FrozenClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


def freeze_clock(monkeypatch: pytest.MonkeyPatch, start: datetime | None = None) -> FrozenClock:
    """Replace `utc_now` in every identity module that imported it (call after the app is built,
    so every module is loaded)."""
    clock = FrozenClock(start or datetime.now(UTC).replace(microsecond=0))
    original = identity.clock.utc_now
    for name, module in list(sys.modules.items()):
        if (name == "identity" or name.startswith("identity.")) and getattr(module, "utc_now", None) is original:
            monkeypatch.setattr(module, "utc_now", clock.now)
    return clock
