"""Rotating, verifying and retiring keys while the service keeps serving.

Data and index rotations are resumable jobs over every person row:

1. Under the `keys` maintenance lock (`services.maintenance_lock`), either resume the kind's
   unfinished `rotation_jobs` row, or create the new primary key version and the job in one
   transaction. From that commit on, every process writes new records under the new key (the
   `keys` epoch moves, so each request reloads the keyring).
2. Forward pass by keyset pagination: select a batch of rows whose version is not the target
   and whose id is after the job's cursor, compute the new wrapped DEK or index in Python,
   write them with one executemany, and commit the batch together with the job's progress
   and the lock's heartbeat. Killed at any point, the job resumes after the last committed
   batch; a batch cut short is simply done again (it selects only rows not yet moved).
3. Sweep: one more pass from the first id, for rows a forward pass could not move or that
   a request holding the old keyring wrote meanwhile. What the sweep cannot move is reported
   by person id and stays readable under its old key, which `retire` then refuses to destroy.

Every write is compare-and-set on the old value (`WHERE id = :id AND dek_wrapped = :old`), so
a person erased or changed by a request between the batch's read and its write is left alone
rather than brought back. Lookups try every usable index key (`vault.index_candidates`), so
duplicates and blacklisted people are found throughout an index rotation.

Signing and root rotations are single steps under the same lock. Services never commit: the
caller hands in a `UnitOfWork` that opens a transaction and commits it when the block ends.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Row, String, Table, cast, func, literal_column, select, text, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.clock import utc_now
from identity.crypto import envelope
from identity.crypto.keyring import Keyring
from identity.crypto.root_keys import RootKeys, fingerprint, load_root_keys, prepend_root_key
from identity.engine_behaviour import scrub_after_commit
from identity.errors import KeyringError, OperatorError
from identity.models import AuditEvent, KeyVersion, Person, RotationJob
from identity.models.keyring import KEY_KINDS, KEY_PRIMARY, KEY_RETIRED
from identity.models.token import MAX_TOKEN_TTL_SECONDS
from identity.services import audit, epochs, maintenance_lock, vault
from identity.services.keyring import KeyringCache, add_key_version, reencrypt_keyring
from identity.services.maintenance_lock import UnitOfWork
from identity.services.signing import LEEWAY_SECONDS, kid_of
from identity.services.webhooks import endpoints as webhook_endpoints

DEFAULT_BATCH_SIZE = 2000
RECORD_KINDS = ("data", "index")
JOB_RUNNING = "running"
JOB_DONE = "done"
MAX_REPORTED_FAILURES = 1000

_persons: Table = Person.__table__  # type: ignore[assignment]  # Core statements: no ORM overhead per row


# --- What each record kind means -------------------------------------------------------------


@dataclass(frozen=True)
class _RecordKind:
    """How one kind of key is used by person rows: which columns, and how to move a row."""

    version_column: str
    value_column: str            # the compare-and-set column
    read_columns: tuple[str, ...]

    def version_col(self) -> Any:
        return _persons.c[self.version_column]

    def value_col(self) -> Any:
        return _persons.c[self.value_column]


_KINDS = {
    "data": _RecordKind("dek_version", "dek_wrapped", ("id", "dek_wrapped")),
    "index": _RecordKind("doc_index_version", "doc_index", ("id", "dek_wrapped", "document_ct", "doc_index")),
}


def _move(kind: str, keyring: Keyring, person_id: str, row: Row[Any], target: int) -> bytes:
    if kind == "data":
        return vault.rewrap_dek_to(keyring, person_id, row.dek_wrapped, target)
    if row.dek_wrapped is None or row.document_ct is None:
        raise envelope.DecryptionFailed()
    return vault.reindex_document(keyring, person_id, row.dek_wrapped, row.document_ct, target)


def _pending(kind: str, target: int) -> Any:
    """Rows still to move: those holding this kind of value under another version (erased rows hold none)."""
    spec = _KINDS[kind]
    return (spec.version_col() != target) & spec.value_col().is_not(None)


def _uses_rowid(session: Session) -> bool:
    """On SQLite a batch addresses its rows by `rowid`, the table's own B-tree: updating 2,000 rows
    by rowid is about four times faster than through the UUID primary key's index. A rowid read
    is written back in the same transaction, so it cannot change in between; the job's cursor
    outlives it, and should a VACUUM renumber rows between two runs the forward pass may skip
    some, which the sweep then moves. Elsewhere the primary key is the locator."""
    return session.get_bind().dialect.name == "sqlite"


def _locator(session: Session) -> Any:
    return literal_column("rowid") if _uses_rowid(session) else _persons.c.id


def _parse_cursor(session: Session, raw: str | None) -> Any:
    if raw is None:
        return None
    return int(raw) if _uses_rowid(session) else uuid.UUID(raw)


def _id_column(session: Session) -> Any:
    """The person id as text: rotation needs it only to build associated data, and parsing a
    UUID object per row costs more than the row's cryptography. SQLite stores 32 hex digits."""
    if _uses_rowid(session):
        return type_coerce(_persons.c.id, String).label("id")
    return cast(_persons.c.id, String).label("id")


def _canonical_id(raw: str) -> str:
    if len(raw) == 32:
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return raw


def _update_sql(session: Session, kind: str) -> str:
    """One compare-and-set UPDATE, run as a plain DBAPI executemany: no per-row work in SQLAlchemy."""
    dialect = session.get_bind().dialect
    if dialect.paramstyle == "qmark":
        mark = "?"
    elif dialect.paramstyle in ("format", "pyformat"):
        mark = "%s"
    else:
        raise OperatorError(f"key rotation does not support the {dialect.name} driver's parameter style")
    spec = _KINDS[kind]
    where = "rowid" if _uses_rowid(session) else "id"
    # Column names come from the fixed `_KINDS` table, never from input; values are all bound.
    assignments = f"{spec.value_column} = {mark}, {spec.version_column} = {mark}"
    compare_and_set = f"{where} = {mark} AND {spec.value_column} = {mark}"
    return f"UPDATE persons SET {assignments} WHERE {compare_and_set}"  # noqa: S608 - fixed names # nosec B608


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


def _keyring(cache: KeyringCache, session: Session) -> Keyring:
    return cache.get(session, epochs.read_epochs(session).get("keys", 0))


# --- Data and index rotation -----------------------------------------------------------------


def running_job(session: Session, kind: str) -> RotationJob | None:
    return session.scalars(select(RotationJob).where(RotationJob.kind == kind, RotationJob.state == JOB_RUNNING)
                           .order_by(RotationJob.id.desc())).first()


def _start_or_resume(session: Session, cache: KeyringCache, kind: str, actor: str) -> tuple[int, bool]:
    job = running_job(session, kind)
    if job is not None:
        audit.record(session, _keyring(cache, session), actor=actor, action="keys.rotation_resumed",
                     details={"kind": kind, "version": job.target_version, "job": job.id,
                              "processed": job.processed})
        return job.id, True
    key = add_key_version(session, cache.root_keys, kind, primary=True)
    total = session.scalar(select(func.count()).select_from(_persons).where(_pending(kind, key.version))) or 0
    now = utc_now()
    job = RotationJob(kind=kind, target_version=key.version, state=JOB_RUNNING, processed=0, total=total,
                      failed=0, started_at=now, updated_at=now)
    session.add(job)
    session.flush()
    audit.record(session, _keyring(cache, session), actor=actor, action="keys.rotation_started",
                 details={"kind": kind, "version": key.version, "job": job.id, "records": total})
    return job.id, False


def _unnest_sql(kind: str) -> str:
    """PostgreSQL: the whole batch as one statement over arrays, instead of one statement per row
    (one plan, one round trip; about twice the throughput of a pipelined executemany). `%b` is
    psycopg's binary parameter format: bytea arrays go as they are, not escaped into text."""
    spec = _KINDS[kind]
    value, version = spec.value_column, spec.version_column
    # Column names come from the fixed `_KINDS` table, never from input; values are all bound.
    return (f"UPDATE persons AS p SET {value} = v.new, {version} = %s "  # noqa: S608 - fixed names # nosec B608
            f"FROM unnest(%b::uuid[], %b::bytea[], %b::bytea[]) AS v(id, old, new) "
            f"WHERE p.id = v.id AND p.{value} = v.old")


def _execute_writes(session: Session, kind: str, params: list[tuple[Any, ...]]) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        new, versions, locators, old = zip(*params, strict=True)
        connection.exec_driver_sql(_unnest_sql(kind), (versions[0], list(locators), list(old), list(new)))
    else:
        connection.exec_driver_sql(_update_sql(session, kind), params)


def _write_batch(session: Session, kind: str, params: list[tuple[Any, ...]]) -> list[Any]:
    """Write (new value, version, locator, old value) rows, compare-and-set; when that breaks a
    unique constraint (two index values colliding), row by row, returning the locators not written."""
    if not params:
        return []
    try:
        with session.begin_nested():
            _execute_writes(session, kind, params)
        return []
    except IntegrityError:
        pass
    conflicts = []
    for one in params:
        try:
            with session.begin_nested():
                _execute_writes(session, kind, [one])
        except IntegrityError:
            conflicts.append(one[2])
    return conflicts


def _batches(uow: UnitOfWork, cache: KeyringCache, kind: str, job_id: int, owner: str, *, sweep: bool,
             batch_size: int, pause: float) -> Iterator[tuple[int, int, list[str]]]:
    """Run one pass; yields (moved in batch, job.processed, failed person ids) after each commit."""
    spec = _KINDS[kind]
    sweep_cursor: str | None = None
    while True:
        with uow() as session:
            if session.get_bind().dialect.name == "postgresql":
                # A batch commit lost in a database crash takes the job's progress with it (same
                # transaction), and the resumed job simply moves those rows again: no need to wait
                # for the WAL flush on every batch.
                session.execute(text("SET LOCAL synchronous_commit = off"))
            maintenance_lock.heartbeat(session, maintenance_lock.KEYS_LOCK, owner)
            job = session.get(RotationJob, job_id)
            assert job is not None
            target = job.target_version
            locator = _locator(session)
            cursor = _parse_cursor(session, sweep_cursor if sweep else job.cursor)
            columns = [_id_column(session), *(_persons.c[name] for name in spec.read_columns if name != "id")]
            query = select(locator.label("loc"), *columns).where(_pending(kind, target))
            if cursor is not None:
                query = query.where(locator > cursor)
            rows = session.execute(query.order_by(locator).limit(batch_size)).all()
            if not rows:
                return
            keyring = _keyring(cache, session)
            params: list[tuple[Any, ...]] = []
            failures: list[str] = []
            for row in rows:
                person_id = _canonical_id(row.id)
                try:
                    new = _move(kind, keyring, person_id, row, target)
                except (envelope.DecryptionFailed, KeyringError, ValueError, KeyError):
                    failures.append(person_id)
                    continue
                params.append((new, target, row.loc, getattr(row, spec.value_column)))
            conflicts = _write_batch(session, kind, params)
            if conflicts:
                person_of = {row.loc: row.id for row in rows}
                failures += [_canonical_id(person_of[loc]) for loc in conflicts]
            moved = len(params) - len(conflicts)
            last = str(rows[-1].loc)
            if sweep:
                sweep_cursor = last
            else:
                job.cursor = last
            job.processed += moved
            job.updated_at = utc_now()
            processed = job.processed
        yield moved, processed, failures
        if pause:
            time.sleep(pause)


def rotate_records(uow: UnitOfWork, cache: KeyringCache, kind: str, *, owner: str, actor: str,
                   batch_size: int = DEFAULT_BATCH_SIZE, pause: float = 0.0,
                   progress: ProgressSink | None = None) -> RotationReport:
    """Create a new primary `data` or `index` key and move every person row onto it, resumably."""
    if kind not in RECORD_KINDS:
        raise OperatorError(f"{kind} keys are not rotated record by record")
    if batch_size < 1:
        raise OperatorError("the batch size must be at least 1")
    with maintenance_lock.held(uow, maintenance_lock.KEYS_LOCK, owner) as took_over_from:
        with uow() as session:
            job_id, resumed = _start_or_resume(session, cache, kind, actor)
            job = session.get(RotationJob, job_id)
            assert job is not None
            target, total, processed_before = job.target_version, job.total or 0, job.processed
        started, cpu_started, moved_total, batch_no = time.monotonic(), time.process_time(), 0, 0
        failures: list[str] = []
        for sweep in (False, True):
            for moved, processed, batch_failures in _batches(uow, cache, kind, job_id, owner, sweep=sweep,
                                                               batch_size=batch_size, pause=pause):
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
            now = utc_now()
            job.state, job.finished_at, job.updated_at, job.failed = JOB_DONE, now, now, len(failures)
            details = {"kind": kind, "version": target, "job": job_id, "records": job.processed,
                       "failed": len(failures), "resumed": resumed}
            if kind == "data":  # webhook endpoint secrets are wrapped under the data key too
                details["webhook_secrets"] = webhook_endpoints.rewrap_secrets(session, _keyring(cache, session))
            audit.record(session, _keyring(cache, session), actor=actor, action="keys.rotation_finished",
                         details=details)
            processed = job.processed
    return RotationReport(kind=kind, version=target, resumed=resumed, processed=processed, total=total,
                          moved_this_run=processed - processed_before, seconds=seconds, failures=failures,
                          took_over_from=took_over_from, cpu_seconds=cpu_seconds)


# --- Signing and root rotation ---------------------------------------------------------------


@dataclass(frozen=True)
class SigningRotation:
    version: int
    previous: int | None
    previous_verifies_until: datetime | None


# A demoted signing key's last token was signed before its successor's created_at, lives at most
# this long, and is accepted for the verifiers' leeway after its `exp`: the JWKS publishes the key
# until then (`services.signing.load_signing_keys`), so it must not be destroyed any sooner.
SIGNING_WINDOW = timedelta(seconds=MAX_TOKEN_TTL_SECONDS + LEEWAY_SECONDS)


def jwks_window_end(session: Session, version: int) -> datetime | None:
    """When signing key `version` stops verifying live tokens: the next key's start + the longest
    TTL + the leeway, the moment the JWKS stops publishing it.

    None while it is still primary (its window has not even begun to close).
    """
    successor = session.scalars(select(KeyVersion).where(KeyVersion.kind == "signing", KeyVersion.version > version)
                                .order_by(KeyVersion.version)).first()
    if successor is None:
        return None
    return successor.created_at + SIGNING_WINDOW


def rotate_signing(uow: UnitOfWork, cache: KeyringCache, *, owner: str, actor: str) -> SigningRotation:
    """A new primary signing key; the old one still verifies (and stays in the JWKS) until its tokens expire."""
    with maintenance_lock.held(uow, maintenance_lock.KEYS_LOCK, owner):
        with uow() as session:
            previous = session.scalar(select(KeyVersion.version).where(KeyVersion.kind == "signing",
                                                                       KeyVersion.state == KEY_PRIMARY))
            audit.record(session, _keyring(cache, session), actor=actor, action="keys.rotation_started",
                         details={"kind": "signing", "previous": previous})
            key = add_key_version(session, cache.root_keys, "signing", primary=True)
            until = key.created_at + SIGNING_WINDOW
            audit.record(session, _keyring(cache, session), actor=actor, action="keys.rotation_finished",
                         details={"kind": "signing", "version": key.version, "previous": previous})
            return SigningRotation(key.version, previous, until if previous is not None else None)


@dataclass(frozen=True)
class RootRotation:
    root_key_id: str       # fingerprint of the new root key: names it, reveals nothing
    file: Path
    lines: int
    reencrypted: int
    staged_only: bool
    resumed: bool


def _keyring_under_current(session: Session, root_keys: RootKeys) -> bool:
    blobs = session.scalars(select(KeyVersion.material_ct).where(KeyVersion.material_ct.is_not(None)))
    return all(root_keys.made_with_current(b) for b in blobs if b is not None)


def rotate_root(uow: UnitOfWork, cache: KeyringCache, root_key_file: Path, *, owner: str, actor: str,
                stage_only: bool = False) -> RootRotation:
    """Add a new root key as the file's first line, then re-encrypt the keyring under it.

    Resumable: when the keyring is not yet all under the file's first line (a run that
    stopped after writing the file, or `--stage`), no other key is added; the keyring is
    re-encrypted under the first line already there.
    """
    with maintenance_lock.held(uow, maintenance_lock.KEYS_LOCK, owner):
        root_keys = load_root_keys(root_key_file)
        with uow() as session:
            resumed = not _keyring_under_current(session, root_keys)
            if not resumed:
                audit.record(session, _keyring(cache, session), actor=actor, action="keys.rotation_started",
                             details={"kind": "root", "previous_root_key_id": fingerprint(root_keys.current).hex()})
        if not resumed:
            root_keys = prepend_root_key(root_key_file)
        key_id = fingerprint(root_keys.current).hex()
        if stage_only:
            return RootRotation(key_id, root_key_file, len(root_keys.keys), 0, True, resumed)
        with uow() as session:
            changed = reencrypt_keyring(session, root_keys)
            # This process reloads its keyring under the new file at once; others do on their next
            # request, through the `keys` epoch that `reencrypt_keyring` bumped.
            audit.record(session, _keyring(cache, session), actor=actor, action="keys.rotation_finished",
                         details={"kind": "root", "root_key_id": key_id, "reencrypted": changed})
        return RootRotation(key_id, root_key_file, len(root_keys.keys), changed, False, resumed)


# --- Status, verification, retirement --------------------------------------------------------


@dataclass(frozen=True)
class KeyStatus:
    kind: str
    version: int
    state: str
    records: int
    created_at: datetime
    retired_at: datetime | None
    verifies_until: datetime | None = None   # signing keys past primary: end of their JWKS window

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "version": self.version, "state": self.state, "records": self.records}


def _usage(session: Session, kind: str) -> dict[int, int]:
    """How many records use each version of `kind`. Signing keys: tokens are not stored, so 0."""
    if kind in _KINDS:
        column = _KINDS[kind].version_col()
        rows = session.execute(select(column, func.count()).where(column.is_not(None)).group_by(column))
        if kind == "data":  # persons' keys, and webhook endpoint secrets
            usage = {int(version): int(count) for version, count in rows}
            for version, count in webhook_endpoints.secret_key_versions(session).items():
                usage[version] = usage.get(version, 0) + count
            return usage
    elif kind == "audit":
        rows = session.execute(select(AuditEvent.key_version, func.count()).group_by(AuditEvent.key_version))
    else:
        return {}
    return {int(version): int(count) for version, count in rows}


def key_status(session: Session) -> list[KeyStatus]:
    keys = session.scalars(select(KeyVersion).order_by(KeyVersion.kind, KeyVersion.version)).all()
    usage = {kind: _usage(session, kind) for kind in KEY_KINDS}
    order = {kind: i for i, kind in enumerate(KEY_KINDS)}
    result = []
    for key in sorted(keys, key=lambda k: (order.get(k.kind, 99), k.version)):
        until = jwks_window_end(session, key.version) if key.kind == "signing" else None
        result.append(KeyStatus(key.kind, key.version, key.state, usage.get(key.kind, {}).get(key.version, 0),
                                key.created_at, key.retired_at, until))
    return result


def retire_key(session: Session, cache: KeyringCache, kind: str, version: int, *, actor: str,
               now: datetime | None = None) -> tuple[KeyVersion, bool]:
    """Destroy a key version's material for good, once nothing can need it. Returns (row, newly retired).

    Refuses the primary; a data or index key while any person row uses it; an audit key while
    any audit event was chained with it (`audit verify` needs it); a signing key while tokens it
    signed may still be live (until the next key's start plus the longest token lifetime).
    """
    now = now or utc_now()
    if kind not in KEY_KINDS:
        raise OperatorError(f"unknown key kind {kind}; one of {', '.join(KEY_KINDS)}")
    key = session.scalars(select(KeyVersion).where(KeyVersion.kind == kind, KeyVersion.version == version)
                          .with_for_update()).first()
    if key is None:
        raise OperatorError(f"there is no {kind} key version {version}")
    if key.state == KEY_RETIRED:
        audit.record(session, _keyring(cache, session), actor=actor, action="keys.retired",
                     details={"kind": kind, "version": version, "already_retired": True})
        return key, False
    if key.state == KEY_PRIMARY:
        raise OperatorError(f"{kind} key v{version} is the primary key; rotate {kind} first")
    in_use = _usage(session, kind).get(version, 0)
    if in_use:
        what = "audit events" if kind == "audit" else "persons"
        hint = ("audit keys stay while the events they chained are kept" if kind == "audit"
                else f"finish `identity-admin keys rotate {kind}` first")
        raise OperatorError(f"{in_use} {what} still use {kind} key v{version}; {hint}")
    if kind == "signing":
        until = jwks_window_end(session, version)
        if until is not None and now < until:
            raise OperatorError(f"signing key v{version} may still verify unexpired tokens until "
                                f"{until.strftime('%Y-%m-%dT%H:%M:%SZ')}; retire it after that")
    ring = _keyring(cache, session)  # loaded before the key disappears, to record the event
    key.material_ct, key.state, key.retired_at = None, KEY_RETIRED, now
    session.flush()
    scrub_after_commit(session)  # no old copy of the material may stay in the database's files
    epochs.bump(session, "keys")
    audit.record(session, ring, actor=actor, action="keys.retired", details={"kind": kind, "version": version})
    return key, True


@dataclass(frozen=True)
class SigningRevocation:
    version: int
    kid: str | None          # None when the key was already retired (its material is gone)
    revoked_at: datetime
    newly: bool


def _signing_key_to_revoke(session: Session, version: int) -> KeyVersion:
    key = session.scalars(select(KeyVersion).where(KeyVersion.kind == "signing", KeyVersion.version == version)
                          .with_for_update()).first()
    if key is None:
        raise OperatorError(f"there is no signing key version {version}")
    if key.state == KEY_PRIMARY:
        # Revoking it would leave nothing to sign with; a new primary must exist first.
        raise OperatorError(f"signing key v{version} is the primary key; run `identity-admin keys rotate signing` "
                            f"first, then revoke v{version}")
    return key


def check_signing_revocation(session: Session, version: int) -> None:
    """Raise the reason `revoke_signing_key` would refuse, before an operator is asked to confirm."""
    _signing_key_to_revoke(session, version)


def revoke_signing_key(session: Session, cache: KeyringCache, version: int, *, actor: str,
                       now: datetime | None = None) -> SigningRevocation:
    """For a leaked signing key: destroy it now, inside its JWKS window.

    Its material is deleted and its row retired, and the `keys` epoch moves, so every process
    drops it on its next request: it leaves the JWKS, and every token it signed (a thief's
    included) becomes inactive at introspection, since no published key verifies it. Unlike
    `retire_key`, this does not wait for those tokens to expire: that is the point.
    """
    now = now or utc_now()
    key = _signing_key_to_revoke(session, version)
    ring = _keyring(cache, session)  # loaded before the key disappears, to name it and record the event
    if key.state == KEY_RETIRED:
        audit.record(session, ring, actor=actor, action="keys.revoked",
                     details={"kind": "signing", "version": version, "compromised": True, "already_retired": True})
        return SigningRevocation(version, None, key.retired_at or now, False)
    kid = kid_of(ring.get("signing", version))
    key.material_ct, key.state, key.retired_at = None, KEY_RETIRED, now
    session.flush()
    epochs.bump(session, "keys")
    audit.record(session, ring, actor=actor, action="keys.revoked",
                 details={"kind": "signing", "version": version, "kid": kid, "compromised": True})
    return SigningRevocation(version, kid, now, True)


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
    columns = [_persons.c[name] for name in _VERIFY_COLUMNS]
    cursor: uuid.UUID | None = None
    while True:
        with read() as session:
            query = select(*columns)
            if cursor is not None:
                query = query.where(_persons.c.id > cursor)
            rows = session.execute(query.order_by(_persons.c.id).limit(batch_size)).all()
            if not rows:
                break
            keyring = _keyring(cache, session)
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
    audit.record(session, _keyring(cache, session), actor=actor, action="keys.verified",
                 details={"records": report.records, "indexes": report.indexes, "failed": len(report.failures),
                          "ok": report.ok})
