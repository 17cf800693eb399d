"""The offline verifier: the document rules were checked, nobody else was asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from identity.verifiers.base import DOCUMENT_CHECKED, Clock, Verification, utc_now

if TYPE_CHECKING:
    from identity.documents import Document

__all__ = ["OfflineVerifier"]


class OfflineVerifier:
    """Stamps `document_checked` / `offline` with the clock's time.

    The caller has already applied the document's rules (format, check digit, age);
    there is nothing left to confirm without an authority, so this never raises.
    """

    is_remote: Final = False  # nobody is asked

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock

    def verify(self, real_name: str, document: Document) -> Verification:
        return Verification(level=DOCUMENT_CHECKED, method="offline", verified_at=self._clock())

    def __repr__(self) -> str:
        return "OfflineVerifier()"
