"""Many persons fast: ciphertexts computed by the vault in memory, written with one executemany per chunk.

Shared by the rotation tests and `bench/rotation.py`. Identities are synthetic resident IDs
(valid check digits), distinct for every `n`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.documents import Document
from identity.models import Person
from identity.models.person import PERSON_ACTIVE, PERSON_ERASED, PERSON_TRACE
from identity.services import vault
from tests.support.people import resident_id

NAMES = ("张三", "李四", "王五", "赵六", "欧阳娜娜", "Zoë O'Brien")
_EPOCH = date(1950, 1, 1)


def document_for(n: int) -> Document:
    """The n-th synthetic document: 999 sequence numbers per birth date."""
    birth = _EPOCH + timedelta(days=n // 999)
    return Document(type="cn_resident_id", number=resident_id(birth=birth, sequence=n % 999 + 1),
                    issuing_country=None, birth_date=birth)


def person_row(keyring: Keyring, n: int, *, state: str = PERSON_ACTIVE, now: datetime | None = None) -> dict[str, Any]:
    person_id = uuid.uuid4()
    row: dict[str, Any] = {"id": person_id, "state": state, "adult": True, "created_at": now or datetime.now(UTC),
                           "erased_at": None}
    sealed = vault.seal_identity(keyring, person_id, vault.Identity(NAMES[n % len(NAMES)], document_for(n),
                                                                  "+8613800138000" if n % 3 == 0 else None))
    if state == PERSON_TRACE:
        # What a sanction trace keeps: the index, and the DEK with the encrypted document.
        sealed.update(name_ct=None, phone_ct=None, birth_date_ct=None)
    elif state == PERSON_ERASED:
        sealed = {key: None for key in sealed}
        row["erased_at"] = row["created_at"]
    row.update(sealed)
    return row


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seed_people(target: Session | Connection, keyring: Keyring, count: int, *, start: int = 0,
                trace_every: int = 0, erased_every: int = 0, chunk: int = 5000) -> int:
    """Insert `count` persons numbered from `start`; every `trace_every`-th a sanction trace, every
    `erased_every`-th erased. The caller commits."""
    now = datetime.now(UTC)

    def rows() -> Iterator[dict[str, Any]]:
        for n in range(start, start + count):
            state = PERSON_ACTIVE
            if trace_every and n % trace_every == trace_every - 1:
                state = PERSON_TRACE
            elif erased_every and n % erased_every == erased_every - 2:
                state = PERSON_ERASED
            yield person_row(keyring, n, state=state, now=now)

    for part in _chunks(rows(), chunk):
        target.execute(insert(Person.__table__), part)
    return count
