"""In-process rate-limit storage without a thread per burst of requests.

`limits`' MemoryStorage starts a `threading.Timer` (a new thread) whenever the previous one
has finished, i.e. every 10 ms under load, only to drop expired counters. In a busy sync
worker that is a thread start and a wait for it on most requests. Expiry does not need it:
`get` already ignores an expired counter. This storage sweeps inline instead, at most once
a second, which keeps memory bounded the same way.
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SCHEME = "process-memory"
SWEEP_EVERY_SECONDS = 1.0


class SweepingMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - replaces the parent's private hook
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
