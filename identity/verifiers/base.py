"""What every verifier returns and the shape it has to have.

A verifier confirms that a real name belongs to a document. The document's own rules
(format, check digit, age) are applied by the caller before a verifier is asked; a
verifier only adds how strongly the pair was confirmed and when.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal, Protocol

from identity.clock import utc_now

if TYPE_CHECKING:  # for the annotation only: a verifier never needs the document rules at run time
    from identity.documents import Document

__all__ = [
    "AUTHORITY_VERIFIED",
    "DOCUMENT_CHECKED",
    "Clock",
    "Verification",
    "VerificationLevel",
    "VerificationMethod",
    "Verifier",
    "utc_now",
]

VerificationLevel = Literal["document_checked", "authority_verified"]
VerificationMethod = Literal["offline", "http", "sandbox"]

DOCUMENT_CHECKED: Final = "document_checked"
AUTHORITY_VERIFIED: Final = "authority_verified"

_LEVELS: Final = frozenset({DOCUMENT_CHECKED, AUTHORITY_VERIFIED})
_METHODS: Final = frozenset({"offline", "http", "sandbox"})  # sandbox: services/sandbox.py

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Verification:
    """The outcome of a successful verification: the account's `verification` body.

    `verified_at` is always tz-aware UTC: an aware time in another zone is converted,
    a naive one is refused (a clock that loses the zone is a bug, not a value to guess).
    """

    level: VerificationLevel
    method: VerificationMethod
    verified_at: datetime

    def __post_init__(self) -> None:
        if self.level not in _LEVELS:
            raise ValueError(f"unknown verification level {self.level!r}")
        if self.method not in _METHODS:
            raise ValueError(f"unknown verification method {self.method!r}")
        offset = self.verified_at.utcoffset()
        if offset is None:
            raise ValueError("verified_at must be timezone-aware")
        if offset != timedelta(0) or self.verified_at.tzinfo is not UTC:
            object.__setattr__(self, "verified_at", self.verified_at.astimezone(UTC))


class Verifier(Protocol):
    """Confirms a (real name, document) pair or raises.

    Returns a `Verification` when confirmed. Raises `identity.errors.IdentityNotVerified`
    when the authority says the pair does not match, and
    `identity.errors.VerificationUnavailable` when no definitive answer could be had.
    Neither the name nor the document number ever appears in what it raises or logs.
    """

    @property
    def is_remote(self) -> bool:
        """True when `verify` asks an authority over the network. Registration then answers
        refusals and duplicates first and ends its database transaction before calling, so no
        transaction stays open across the call; a verifier that answers at once is called
        inside the registration's transaction."""
        ...

    def verify(self, real_name: str, document: Document) -> Verification: ...
