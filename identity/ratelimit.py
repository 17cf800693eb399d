"""Rate limits: per verified API key, failed authentications per client address.

Counting happens after authentication, never on a key id someone merely presented: junk
secrets sent with another platform's key id count against the sender's address, not against
that platform. Counters live in Redis when `IDENTITY_REDIS_URL` is set, else in the process.

While Redis cannot be reached, counting goes on in the process (each worker then allows the
full limit on its own), the log says so once, the gauge `identity_rate_limit_storage_degraded`
reads 1, and Redis is probed again every few seconds. Flask-Limiter has the same fallback, but
it checks its limits in `before_request`, before any view has authenticated the caller, so it
can only key on unverified input; and its fallback state is private, with no hook for a metric.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from limits.util import WindowStats
from prometheus_client import Gauge

log = logging.getLogger("identity.ratelimit")
T = TypeVar("T")

SWEEP_EVERY_SECONDS = 1.0
# How often a worker that fell back to its own counters asks Redis whether it is back.
PROBE_EVERY_SECONDS = 5.0
# A Redis that does not answer must cost a request little: counting is not worth a stall.
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_KEY_PREFIX = "identity-ratelimit"

STORAGE_DEGRADED = Gauge("identity_rate_limit_storage_degraded",
                         "1 while the shared rate-limit storage (Redis) is unreachable and this process "
                         "counts on its own", multiprocess_mode="livemax")


class ProcessWindows:
    """Fixed windows counted in this process, as `limits`' FixedWindowRateLimiter counts them in
    its MemoryStorage: a key's window opens at its first hit and lasts the item's period.

    The same three calls (`hit`, `test`, `get_window_stats`) at a fifth of the cost: no key string
    formatted per call, no lock per key, no exception wrapper, and no `threading.Timer` started to
    drop expired windows (the parent storage starts one every 10 ms under load). Expired windows
    are swept inline, at most once a second, which keeps memory bounded.
    """

    def __init__(self) -> None:
        self._windows: dict[tuple[RateLimitItem, str], list[float]] = {}  # [ends at (UNIX time), hits]
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def hit(self, item: RateLimitItem, key: str) -> bool:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            window = self._windows.get((item, key))
            if window is None or window[0] <= now:
                window = self._windows[(item, key)] = [now + item.get_expiry(), 0]
            window[1] += 1
            return window[1] <= item.amount

    def test(self, item: RateLimitItem, key: str) -> bool:
        window = self._windows.get((item, key))
        return window is None or window[0] <= time.time() or window[1] < item.amount

    def get_window_stats(self, item: RateLimitItem, key: str) -> WindowStats:
        window = self._windows.get((item, key))
        if window is None or window[0] <= time.time():
            return WindowStats(time.time(), item.amount)
        return WindowStats(window[0], max(0, item.amount - int(window[1])))

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_EVERY_SECONDS
        for expired in [k for k, window in self._windows.items() if window[0] <= now]:
            del self._windows[expired]


# Where a RateLimits counts: Redis, through `limits`, or this process.
Counters = FixedWindowRateLimiter | ProcessWindows


def parse_limits(value: str) -> list[RateLimitItem]:
    """`6000 per minute`, `100/second; 6000/minute` (Settings has checked that it parses)."""
    return sorted(parse_many(value))  # shortest window first: a 429 names the first one breached


class RateLimits:
    """The service's counters, with their Redis-or-process storage and its fallback."""

    def __init__(self, per_caller: str, auth_failures: str, redis_url: str | None) -> None:
        self._per_caller = parse_limits(per_caller)
        self._auth_failures = parse_limits(auth_failures)
        self._local = ProcessWindows()
        self._shared: FixedWindowRateLimiter | None = None
        if redis_url:
            storage = storage_from_string(
                redis_url, wrap_exceptions=True, key_prefix=REDIS_KEY_PREFIX,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)
            assert isinstance(storage, Storage)  # a redis:// URL gives the synchronous storage
            self._shared = FixedWindowRateLimiter(storage)
        self._degraded = False
        self._next_probe = 0.0
        self._lock = threading.Lock()
        STORAGE_DEGRADED.set(0)

    @property
    def degraded(self) -> bool:
        return self._degraded

    def hit_caller(self, caller: str) -> int | None:
        """Count one request of a verified API key (`key:<id>`) or of an address on an
        unauthenticated route (`ip:<address>`). None if allowed, else seconds until it is."""
        return self._hit(self._per_caller, caller)

    def hit_auth_failure(self, address: str) -> int | None:
        """Count one failed authentication from a client address; as `hit_caller`."""
        return self._hit(self._auth_failures, f"auth-failure:{address}")

    def auth_failures_left(self, address: str) -> bool:
        """Whether this address may still fail; checked before an expensive argon2 verification."""
        key = f"auth-failure:{address}"
        return self._run(lambda limiter: all(limiter.test(item, key) for item in self._auth_failures))

    def _hit(self, items: list[RateLimitItem], key: str) -> int | None:
        def hit(limiter: Counters) -> int | None:
            for item in items:
                if not limiter.hit(item, key):
                    reset_at = limiter.get_window_stats(item, key).reset_time
                    return max(1, math.ceil(reset_at - time.time()))
            return None

        return self._run(hit)

    def _run(self, count: Callable[[Counters], T]) -> T:
        limiter = self._limiter()
        if limiter is self._local:
            return count(limiter)
        try:
            return count(limiter)
        except StorageError as error:
            self._fall_back(error)
            return count(self._local)

    def _limiter(self) -> Counters:
        if self._shared is None:
            return self._local
        if self._degraded:
            now = time.monotonic()
            if now < self._next_probe:
                return self._local
            with self._lock:
                self._next_probe = now + PROBE_EVERY_SECONDS
            if not self._shared.storage.check():
                return self._local
            self._recover()
        return self._shared

    def _fall_back(self, error: StorageError) -> None:
        with self._lock:
            if self._degraded:
                return
            self._degraded = True
            self._next_probe = time.monotonic() + PROBE_EVERY_SECONDS
        STORAGE_DEGRADED.set(1)
        # The error's type only: its message may name the Redis URL, password included.
        log.warning("rate-limit storage (Redis) unreachable (%s): counting per process until it answers again",
                    type(error.storage_error).__name__)

    def _recover(self) -> None:
        with self._lock:
            if not self._degraded:
                return
            self._degraded = False
        STORAGE_DEGRADED.set(0)
        log.warning("rate-limit storage (Redis) reachable again: counting in Redis")
