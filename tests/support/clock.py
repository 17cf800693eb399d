"""A frozen, movable clock for tests: sanctions expire by the clock, and tests must not sleep.

The `clock` fixture (tests/conftest.py) puts one on the app's runtime, the clock every view and
command reads; services take `now` from them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FrozenClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> datetime:
        self.moment = moment
        return moment

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        self.moment += timedelta(seconds=seconds, **delta)
        return self.moment

    def timestamp(self) -> float:
        """For realname_identity_client's verifier, which counts in POSIX seconds."""
        return self.moment.timestamp()
