"""The batch engine: moving every person row's data or index key onto a new version, resumably."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.clock import utc_now
from identity.crypto import envelope
from identity.crypto.keyring import Keyring
from identity.errors import KeyringError, OperatorError
from identity.models import RotationJob
from identity.services import audit, maintenance_lock, vault
from identity.services.key_rotation.common import (
    DEFAULT_BATCH_SIZE,
    KINDS,
    MAX_REPORTED_FAILURES,
    RECORD_KINDS,
    RecordKind,
    keyring_now,
    persons,
)
from identity.services.key_rotation.dialects import BulkRows, bulk_rows_for, canonical_id
from identity.services.keyring import KeyringCache, add_key_version
from identity.services.maintenance_lock import UnitOfWork
from identity.services.webhooks import endpoints as webhook_endpoints

JOB_RUNNING = "running"
JOB_DONE = "done"


def _move(kind: str, keyring: Keyring, person_id: str, row: Row[Any], target: int) -> bytes:
    if kind == "data":
        return vault.rewrap_dek_to(keyring, person_id, row.dek_wrapped, target)
    if row.dek_wrapped is None or row.document_ct is None:
        raise envelope.DecryptionFailed()
    return vault.reindex_document(keyring, person_id, row.dek_wrapped, row.document_ct, target)


def pending(kind: str, target: int) -> Any:
    """Rows still to move: those holding this kind of value under another version (erased rows hold none)."""
    spec = KINDS[kind]
    return (spec.version_col() != target) & spec.value_col().is_not(None)


# --- Progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    kind: str
    version: int
    phase: str           # "pass" or "sweep"
    batch: int
    processed: int       # records moved by the job so far, over every run
    total: int           # records that needed moving when the job started
    rate: float          # records per second in this run
    seconds_left: float | None


ProgressSink = Callable[[Progress], None]


@dataclass
class RotationReport:
    kind: str
    version: int
    resumed: bool
    processed: int
    total: int
    moved_this_run: int
    seconds: float
    failures: list[str] = field(default_factory=list)
    took_over_from: str | None = None
    cpu_seconds: float = 0.0   # this process's CPU over the batches: the rate an idle core would give

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "version": self.version, "resumed": self.resumed, "processed": self.processed,
                "total": self.total, "moved_this_run": self.moved_this_run, "seconds": round(self.seconds, 3),
                "rate": round(self.moved_this_run / self.seconds) if self.seconds > 0 else None,
                "cpu_seconds": round(self.cpu_seconds, 3),
                "failed": len(self.failures), "failures": self.failures[:MAX_REPORTED_FAILURES]}


# --- The job -------------------------------------------------------------------------------------


def running_job(session: Session, kind: str) -> RotationJob | None:
    return session.scalars(select(RotationJob).where(RotationJob.kind == kind, RotationJob.state == JOB_RUNNING)
                           .order_by(RotationJob.id.desc())).first()


def _start_or_resume(session: Session, cache: KeyringCache, kind: str, actor: str,
                     now: datetime) -> tuple[int, bool]:
    job = running_job(session, kind)
    if job is not None:
        audit.record(session, keyring_now(cache, session), actor=actor, action="keys.rotation_resumed",
                     details={"kind": kind, "version": job.target_version, "job": job.id,
                              "processed": job.processed}, now=now)
        return job.id, True
    key = add_key_version(session, cache.root_keys, kind, primary=True, now=now)
    total = session.scalar(select(func.count()).select_from(persons).where(pending(kind, key.version))) or 0
    job = RotationJob(kind=kind, target_version=key.version, state=JOB_RUNNING, processed=0, total=total,
                      failed=0, started_at=now, updated_at=now)
    session.add(job)
    session.flush()
    audit.record(session, keyring_now(cache, session), actor=actor, action="keys.rotation_started",
                 details={"kind": kind, "version": key.version, "job": job.id, "records": total}, now=now)
    return job.id, False


def _write_batch(session: Session, rows_of: BulkRows, spec: RecordKind, params: list[tuple[Any, ...]]) -> list[Any]:
    """Write (new value, version, locator, old value) rows, compare-and-set; when that breaks a
    unique constraint (two index values colliding), row by row, returning the locators not written."""
    if not params:
        return []
    try:
        with session.begin_nested():
            rows_of.write(session, spec, params)
        return []
    except IntegrityError:
        pass
    conflicts = []
    for one in params:
        try:
            with session.begin_nested():
                rows_of.write(session, spec, [one])
        except IntegrityError:
            conflicts.append(one[2])
    return conflicts


def _batches(uow: UnitOfWork, cache: KeyringCache, kind: str, job_id: int, owner: str, *, sweep: bool,
             batch_size: int, pause: float, clock: Callable[[], datetime]) -> Iterator[tuple[int, int, list[str]]]:
    """Run one pass; yields (moved in batch, job.processed, failed person ids) after each commit."""
    spec = KINDS[kind]
    sweep_cursor: str | None = None
    rows_of: BulkRows | None = None
    while True:
        with uow() as session:
            rows_of = rows_of or bulk_rows_for(session)
            rows_of.begin_batch(session)
            maintenance_lock.heartbeat(session, maintenance_lock.KEYS_LOCK, owner)
            job = session.get(RotationJob, job_id)
            assert job is not None
            target = job.target_version
            locator = rows_of.locator()
            cursor = rows_of.parse_cursor(sweep_cursor if sweep else job.cursor)
            columns = [rows_of.id_column(), *(persons.c[name] for name in spec.read_columns if name != "id")]
            query = select(locator.label("loc"), *columns).where(pending(kind, target))
            if cursor is not None:
                query = query.where(locator > cursor)
            rows = session.execute(query.order_by(locator).limit(batch_size)).all()
            if not rows:
                return
            keyring = keyring_now(cache, session)
            params: list[tuple[Any, ...]] = []
            failures: list[str] = []
            for row in rows:
                person_id = canonical_id(row.id)
                try:
                    new = _move(kind, keyring, person_id, row, target)
                except (envelope.DecryptionFailed, KeyringError, ValueError, KeyError):
                    failures.append(person_id)
                    continue
                params.append((new, target, row.loc, getattr(row, spec.value_column)))
            conflicts = _write_batch(session, rows_of, spec, params)
            if conflicts:
                person_of = {row.loc: row.id for row in rows}
                failures += [canonical_id(person_of[loc]) for loc in conflicts]
            moved = len(params) - len(conflicts)
            last = str(rows[-1].loc)
            if sweep:
                sweep_cursor = last
            else:
                job.cursor = last
            job.processed += moved
            job.updated_at = clock()
            processed = job.processed
        yield moved, processed, failures
        if pause:
            time.sleep(pause)


def rotate_records(uow: UnitOfWork, cache: KeyringCache, kind: str, *, owner: str, actor: str,
                   clock: Callable[[], datetime] = utc_now, batch_size: int = DEFAULT_BATCH_SIZE, pause: float = 0.0,
                   progress: ProgressSink | None = None) -> RotationReport:
    """Create a new primary `data` or `index` key and move every person row onto it, resumably.

    `clock` stamps the job's start, each batch's progress and its end: a run may last hours."""
    if kind not in RECORD_KINDS:
        raise OperatorError(f"{kind} keys are not rotated record by record")
    if batch_size < 1:
        raise OperatorError("the batch size must be at least 1")
    with maintenance_lock.held(uow, maintenance_lock.KEYS_LOCK, owner) as took_over_from:
        with uow() as session:
            job_id, resumed = _start_or_resume(session, cache, kind, actor, clock())
            job = session.get(RotationJob, job_id)
            assert job is not None
            target, total, processed_before = job.target_version, job.total or 0, job.processed
        started, cpu_started, moved_total, batch_no = time.monotonic(), time.process_time(), 0, 0
        failures: list[str] = []
        for sweep in (False, True):
            for moved, processed, batch_failures in _batches(uow, cache, kind, job_id, owner, sweep=sweep,
                                                               batch_size=batch_size, pause=pause, clock=clock):
                batch_no += 1
                moved_total += moved
                if sweep:
                    failures += batch_failures
                if progress is not None:
                    elapsed = max(time.monotonic() - started, 1e-9)
                    rate = moved_total / elapsed
                    left = max(total - processed, 0)
                    progress(Progress(kind, target, "sweep" if sweep else "pass", batch_no, processed, total,
                                      rate, left / rate if rate > 0 else None))
        seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
        with uow() as session:
            job = session.get(RotationJob, job_id)
            assert job is not None
            now = clock()
            job.state, job.finished_at, job.updated_at, job.failed = JOB_DONE, now, now, len(failures)
            details = {"kind": kind, "version": target, "job": job_id, "records": job.processed,
                       "failed": len(failures), "resumed": resumed}
            if kind == "data":  # webhook endpoint secrets are wrapped under the data key too
                details["webhook_secrets"] = webhook_endpoints.rewrap_secrets(session, keyring_now(cache, session))
            audit.record(session, keyring_now(cache, session), actor=actor, action="keys.rotation_finished",
                         details=details, now=now)
            processed = job.processed
    return RotationReport(kind=kind, version=target, resumed=resumed, processed=processed, total=total,
                          moved_this_run=processed - processed_before, seconds=seconds, failures=failures,
                          took_over_from=took_over_from, cpu_seconds=cpu_seconds)
