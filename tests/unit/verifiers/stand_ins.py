"""Stand-ins shared by the verifier tests.

The verifiers only read a document's attributes, so the tests build a tiny frozen
dataclass with the attributes of `identity.documents.Document` rather than depend on
that package. `stand_in_document` types it as a `Document` for mypy's sake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from identity.documents import Document

FIXED_NOW = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class StandInDocument:
    """Same attributes as `identity.documents.Document` (a frozen dataclass)."""

    type: str
    number: str
    issuing_country: str | None = None
    birth_date: date | None = None


def stand_in_document(
    number: str,
    type: str = "cn_resident_id",
    issuing_country: str | None = None,
    birth_date: date | None = None,
) -> Document:
    return cast("Document", StandInDocument(type, number, issuing_country, birth_date))
