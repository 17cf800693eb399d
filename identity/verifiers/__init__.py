"""Identity verifiers: confirm that a real name belongs to an identity document.

`IDENTITY_VERIFIER=offline` (default) stamps `document_checked` once the caller has
applied the document's rules; `IDENTITY_VERIFIER=http` asks the authority at
`IDENTITY_VERIFIER_URL` and stamps `authority_verified`. Build one with
`build_verifier` at start-up and share it: both kinds are thread-safe.

No Flask, no database: the registration service calls `verify()` and stores the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from identity.verifiers.base import (
    AUTHORITY_VERIFIED,
    DOCUMENT_CHECKED,
    Clock,
    Verification,
    VerificationLevel,
    VerificationMethod,
    Verifier,
    utc_now,
)
from identity.verifiers.guard import CircuitState, GuardedVerifier
from identity.verifiers.http import DEFAULT_BACKOFF, CallObserver, HttpVerifier
from identity.verifiers.http import worst_case_seconds as _worst_case_seconds
from identity.verifiers.offline import OfflineVerifier

__all__ = [
    "AUTHORITY_VERIFIED",
    "DOCUMENT_CHECKED",
    "VERIFIER_KINDS",
    "CircuitState",
    "Clock",
    "GuardedVerifier",
    "HttpVerifier",
    "OfflineVerifier",
    "Verification",
    "VerificationLevel",
    "VerificationMethod",
    "Verifier",
    "build_verifier",
    "http_worst_case_seconds",
]

#: The connection timeout never exceeds this, whatever the (read) timeout is.
_MAX_CONNECT_TIMEOUT = 2.0


def http_worst_case_seconds(timeout: float, retries: int) -> float:
    """The longest one call of `build_verifier("http", timeout=..., retries=...)` can take."""
    return _worst_case_seconds(min(_MAX_CONNECT_TIMEOUT, timeout), timeout, retries, DEFAULT_BACKOFF)


def _offline(*, url: str | None, timeout: float, retries: int, clock: Clock,
             observe: CallObserver | None) -> Verifier:
    return OfflineVerifier(clock=clock)


def _http(*, url: str | None, timeout: float, retries: int, clock: Clock,
          observe: CallObserver | None) -> Verifier:
    if not url:
        raise ValueError("IDENTITY_VERIFIER=http needs IDENTITY_VERIFIER_URL")
    if not timeout > 0:
        raise ValueError("the verifier timeout must be positive")
    return HttpVerifier(
        url,
        connect_timeout=min(_MAX_CONNECT_TIMEOUT, timeout),
        read_timeout=timeout,
        retries=retries,
        clock=clock,
        observe=observe,
    )


# The one registry of `IDENTITY_VERIFIER` kinds: settings accept exactly these names.
_BUILDERS: Final[dict[str, Callable[..., Verifier]]] = {"offline": _offline, "http": _http}
VERIFIER_KINDS: Final[tuple[str, ...]] = tuple(_BUILDERS)


def build_verifier(
    kind: str,
    *,
    url: str | None,
    timeout: float = 5.0,
    retries: int = 2,
    clock: Clock = utc_now,
    observe: CallObserver | None = None,
) -> Verifier:
    """The verifier for `IDENTITY_VERIFIER` = `kind`.

    `timeout` is the authority's read timeout in seconds; connecting gets
    `min(2.0, timeout)`. Raises `ValueError` for an unknown kind, for `http` without a
    URL or with a non-http(s) one, and for a non-positive timeout or negative retries.
    """
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"unknown verifier kind {kind!r}: expected one of {', '.join(VERIFIER_KINDS)}")
    return builder(url=url, timeout=timeout, retries=retries, clock=clock, observe=observe)
