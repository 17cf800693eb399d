"""What every key job shares: the person rows' key columns, and the keyring as of now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.models import Person
from identity.services import epochs
from identity.services.keyring import KeyringCache

DEFAULT_BATCH_SIZE = 2000
RECORD_KINDS = ("data", "index")
MAX_REPORTED_FAILURES = 1000

persons: Table = Person.__table__  # type: ignore[assignment]  # Core statements: no ORM overhead per row


@dataclass(frozen=True)
class RecordKind:
    """How one kind of key is used by person rows: which columns, and how to move a row."""

    version_column: str
    value_column: str            # the compare-and-set column
    read_columns: tuple[str, ...]

    def version_col(self) -> Any:
        return persons.c[self.version_column]

    def value_col(self) -> Any:
        return persons.c[self.value_column]


# Column names used in SQL text come from this fixed table, never from input.
KINDS = {
    "data": RecordKind("dek_version", "dek_wrapped", ("id", "dek_wrapped")),
    "index": RecordKind("doc_index_version", "doc_index", ("id", "dek_wrapped", "document_ct", "doc_index")),
}


def keyring_now(cache: KeyringCache, session: Session) -> Keyring:
    """The keyring as the session's transaction sees the `keys` epoch."""
    return cache.get(epochs.read_epochs(session).get("keys", 0), session)
