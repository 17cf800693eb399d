"""Per-process caches that a change counter (an epoch, see `epochs`) empties at once.

Two shapes, one rule: `EpochCache` is a bounded map whose entries may also end by the clock at
the first moment their answer could change unwritten; `EpochValue` is one value (the keyring,
the signing keys) rebuilt when its epoch moves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, time, timedelta
from typing import Any, Generic, TypeVar

MAX_CACHE_ENTRIES = 50_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def next_utc_midnight(now: datetime) -> datetime:
    """When a minor may next come of age: `adult` is computed on UTC dates."""
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)


class EpochCache(Generic[K, V]):
    """A per-process map emptied when its epoch changes; an entry may also have its own deadline
    (None: it ends only with the epoch). The oldest insertion goes first when the map is full.

    An entry is stored only under the epoch the request read before reading the data, and only
    if the cache has not moved on to a newer epoch meanwhile: a slow request never puts an old
    answer into a newer generation.
    """

    def __init__(self, max_entries: int = MAX_CACHE_ENTRIES) -> None:
        self._entries: dict[K, tuple[V, datetime | None]] = {}
        self._epoch: Hashable = None
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: K, epoch: Hashable, now: datetime | None = None) -> V | None:
        """The entry for `key` under `epoch`; one with a deadline needs `now` to be returned."""
        with self._lock:
            if self._epoch != epoch:
                self._entries.clear()
                self._epoch = epoch
                return None
            found = self._entries.get(key)
        if found is None:
            return None
        until = found[1]
        if until is not None and (now is None or now >= until):
            return None
        return found[0]

    def put(self, key: K, value: V, epoch: Hashable, valid_until: datetime | None = None) -> None:
        with self._lock:
            if self._epoch != epoch:
                return
            if len(self._entries) >= self._max and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (value, valid_until)


class EpochValue(Generic[V]):
    """One value per process, built by `load(*args)` on first use and again when the epoch moves.

    The value and the epoch it was built under are one tuple, read in one step: a reader never
    pairs a new epoch with an old value. Loading is serialised, so a moved epoch costs one load.
    """

    def __init__(self, load: Callable[..., V]) -> None:
        self._load = load
        self._current: tuple[Hashable, V] | None = None
        self._lock = threading.Lock()

    def get(self, epoch: Hashable, *args: Any) -> V:
        current = self._current
        if current is not None and current[0] == epoch:
            return current[1]
        with self._lock:
            current = self._current
            if current is None or current[0] != epoch:
                current = self._current = (epoch, self._load(*args))
            return current[1]
