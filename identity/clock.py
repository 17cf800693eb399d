"""Time in one place, so tests can pin it and every timestamp is tz-aware UTC."""

from datetime import UTC, datetime
from typing import Protocol


def utc_now() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    """What the API and CLI ask for the time (`runtime.clock.now()`) and hand to services as `now`."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time. Tests put a frozen clock on the runtime in its place."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def rfc3339(moment: datetime | None) -> str | None:
    """`2026-11-28T10:00:00Z`: seconds precision, UTC, as the contract writes times."""
    if moment is None:
        return None
    # isoformat, not strftime: a fifth of the cost, and this runs on every token issued.
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
