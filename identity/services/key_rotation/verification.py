"""Proving the keys still work: open every person's DEK and sealed fields, recompute every index."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.models import KeyVersion
from identity.models.keyring import KEY_RETIRED
from identity.services import audit, vault
from identity.services.key_rotation.common import DEFAULT_BATCH_SIZE, MAX_REPORTED_FAILURES, keyring_now, persons
from identity.services.keyring import KeyringCache
from identity.services.maintenance_lock import UnitOfWork


@dataclass
class VerifyReport:
    records: int = 0          # person rows examined
    decrypted: int = 0        # rows whose DEK and every sealed field opened
    indexes: int = 0          # indexes recomputed and compared
    keys: int = 0             # key versions that opened under the root keys
    keys_under_old_root: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)   # person id -> problem labels

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        shown = dict(list(self.failures.items())[:MAX_REPORTED_FAILURES])
        return {"ok": self.ok, "records": self.records, "decrypted": self.decrypted, "indexes": self.indexes,
                "keys": self.keys, "keys_under_old_root": self.keys_under_old_root,
                "failed": len(self.failures),
                "failures": [{"person": pid, "problems": problems} for pid, problems in shown.items()]}


_VERIFY_COLUMNS = vault.SEALED_RECORD_COLUMNS


def verify_records(read: UnitOfWork, cache: KeyringCache, *, batch_size: int = DEFAULT_BATCH_SIZE,
                   progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Open every person's DEK and sealed fields and recompute every index, in read-only batches.

    Safe beside serving and beside a rotation: each batch is its own short read transaction.
    """
    report = VerifyReport()
    with read() as session:
        root_keys = cache.root_keys
        for blob in session.scalars(select(KeyVersion.material_ct).where(KeyVersion.state != KEY_RETIRED)):
            report.keys += 1
            if blob is not None and not root_keys.made_with_current(blob):
                report.keys_under_old_root += 1
    columns = [persons.c[name] for name in _VERIFY_COLUMNS]
    cursor: uuid.UUID | None = None
    while True:
        with read() as session:
            query = select(*columns)
            if cursor is not None:
                query = query.where(persons.c.id > cursor)
            rows = session.execute(query.order_by(persons.c.id).limit(batch_size)).all()
            if not rows:
                break
            keyring = keyring_now(cache, session)
        for row in rows:
            record = vault.SealedRecord(*row)
            problems = vault.check_record(keyring, record)
            report.records += 1
            if problems:
                report.failures[str(record.id)] = problems
                continue
            if record.dek_wrapped is not None:
                report.decrypted += 1
            if record.doc_index is not None:
                report.indexes += 1
        cursor = rows[-1].id
        if progress is not None:
            progress(report.records)
    return report


def record_verification(session: Session, cache: KeyringCache, report: VerifyReport, *, actor: str) -> None:
    """The audit event of a verification: counts only, never a person id or a problem's detail."""
    audit.record(session, keyring_now(cache, session), actor=actor, action="keys.verified",
                 details={"records": report.records, "indexes": report.indexes, "failed": len(report.failures),
                          "ok": report.ok})
