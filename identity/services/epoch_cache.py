"""Per-process caches that a change counter (an epoch, see `epochs`) empties at once, and
whose entries also end by the clock at the first moment their answer could change unwritten."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import UTC, datetime, time, timedelta
from typing import Generic, TypeVar

MAX_CACHE_ENTRIES = 50_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def next_utc_midnight(now: datetime) -> datetime:
    """When a minor may next come of age: `adult` is computed on UTC dates."""
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)


class EpochCache(Generic[K, V]):
    """A per-process map emptied when its epoch changes; each entry also has its own deadline.

    An entry is stored only under the epoch the request read before reading the data, and only
    if the cache has not moved on to a newer epoch meanwhile: a slow request never puts an old
    answer into a newer generation.
    """

    def __init__(self, max_entries: int = MAX_CACHE_ENTRIES) -> None:
        self._entries: dict[K, tuple[V, datetime]] = {}
        self._epoch: Hashable = None
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: K, epoch: Hashable, now: datetime) -> V | None:
        with self._lock:
            if self._epoch != epoch:
                self._entries.clear()
                self._epoch = epoch
                return None
            found = self._entries.get(key)
        if found is None or now >= found[1]:
            return None
        return found[0]

    def put(self, key: K, value: V, epoch: Hashable, valid_until: datetime) -> None:
        with self._lock:
            if self._epoch != epoch:
                return
            if len(self._entries) >= self._max and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest insertion goes first
            self._entries[key] = (value, valid_until)
