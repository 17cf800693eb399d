"""Keep a slow or failing verification authority from holding the service's workers.

`GuardedVerifier` wraps a verifier with two per-process protections:

* A bound on concurrent calls (`max_concurrent`). A call that finds every slot taken is
  answered at once with `VerificationUnavailable` (`Retry-After: BUSY_RETRY_AFTER`), never
  queued: each call in flight can take the verifier's worst case, and a queue behind them
  would only hold more workers for longer.
* A circuit breaker. After `failure_threshold` calls in a row end without an answer
  (`VerificationUnavailable`, or an unexpected error), the circuit opens: every call is
  answered at once, the `Retry-After` saying when the cool-down ends. After `cooldown_seconds`
  one call is let through as a probe (half-open); an answer, match or not, closes the
  circuit, a failure opens it for another cool-down. Calls that arrive while the probe is in
  flight are answered as when open.

A definitive answer (a match, or `IdentityNotVerified`) resets the failure count.

Under gunicorn's sync workers a process serves one request at a time, so the bound only
matters for threaded servers; the breaker is what stops every worker waiting on a dead
authority: each worker gives it at most `failure_threshold` calls per cool-down.

No Flask, no database. `on_state` is told "closed", "open" or "half_open" on every change,
`on_refused` the reason ("circuit_open", "busy") of every call answered without asking:
the runtime feeds both to the metrics.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Literal

from identity.errors import IdentityNotVerified, VerificationUnavailable
from identity.verifiers.base import Verification, Verifier

if TYPE_CHECKING:
    from identity.documents import Document

__all__ = ["BUSY_RETRY_AFTER", "CircuitState", "GuardedVerifier"]

logger = logging.getLogger(__name__)

CircuitState = Literal["closed", "open", "half_open"]

#: Seconds a client is told to wait when every slot is taken: slots free up call by call.
BUSY_RETRY_AFTER: Final = 1

_PAUSED = "Identity verification is paused after repeated failures of the authority. Try again later."
_BUSY = "Identity verification is busy. Try again shortly."


class GuardedVerifier:
    """`verifier`, with a bound on concurrent calls and a circuit breaker. Thread-safe."""

    def __init__(
        self,
        verifier: Verifier,
        *,
        max_concurrent: int,
        failure_threshold: int,
        cooldown_seconds: float,
        on_state: Callable[[CircuitState], None] | None = None,
        on_refused: Callable[[str], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if not cooldown_seconds > 0:
            raise ValueError("cooldown_seconds must be positive")
        self._verifier = verifier
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._failure_threshold = failure_threshold
        self._cooldown = float(cooldown_seconds)
        self._on_state = on_state
        self._on_refused = on_refused
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None  # set while open or half-open
        self._probing = False

    @property
    def is_remote(self) -> bool:
        return self._verifier.is_remote

    @property
    def state(self) -> CircuitState:
        with self._lock:
            return self._state()

    def verify(self, real_name: str, document: Document) -> Verification:
        probe = self._admit()
        if not self._slots.acquire(blocking=False):
            if probe:
                with self._lock:  # let the next call probe instead
                    self._probing = False
            self._refused("busy")
            raise VerificationUnavailable(_BUSY, retry_after=BUSY_RETRY_AFTER)
        try:
            verification = self._verifier.verify(real_name, document)
        except IdentityNotVerified:
            self._answered()
            raise
        except Exception:
            self._failed()
            raise
        finally:
            self._slots.release()
        self._answered()
        return verification

    def close(self) -> None:
        close = getattr(self._verifier, "close", None)
        if close is not None:
            close()

    def __repr__(self) -> str:
        return f"GuardedVerifier({self._verifier!r}, state={self.state!r})"

    # -- the breaker --------------------------------------------------------------------

    def _state(self) -> CircuitState:
        if self._open_until is None:
            return "closed"
        return "half_open" if self._probing else "open"

    def _admit(self) -> bool:
        """True when this call is the half-open probe; raises while the circuit is open."""
        with self._lock:
            if self._open_until is None:
                return False
            left = self._open_until - self._monotonic()
            if left > 0 or self._probing:
                wait = left if left > 0 else self._cooldown
            else:
                self._probing = True
                wait = None
        if wait is not None:
            self._refused("circuit_open")
            raise VerificationUnavailable(_PAUSED, retry_after=max(1, math.ceil(wait)))
        self._changed("half_open")
        return True

    def _answered(self) -> None:
        with self._lock:
            was = self._state()
            self._failures = 0
            self._open_until = None
            self._probing = False
        if was != "closed":
            logger.info("identity verification circuit closed: the authority answered again")
            self._changed("closed")

    def _failed(self) -> None:
        with self._lock:
            self._failures += 1
            opens = self._probing or (self._open_until is None and self._failures >= self._failure_threshold)
            if opens:
                self._open_until = self._monotonic() + self._cooldown
                self._probing = False
            failures = self._failures
        if opens:
            logger.warning(
                "identity verification circuit open after %d failures in a row: answering 503 for %ds",
                failures,
                math.ceil(self._cooldown),
            )
            self._changed("open")

    def _changed(self, state: CircuitState) -> None:
        if self._on_state is not None:
            self._on_state(state)

    def _refused(self, reason: str) -> None:
        if self._on_refused is not None:
            self._on_refused(reason)
