"""The audit log: every state change and every read of personal data, on a keyed hash chain.

Each event's MAC is HMAC-SHA256(audit key, previous MAC || canonical event). The audit key
lives in the keyring (encrypted under the root key), so someone with write access to the
database alone cannot forge or re-chain events. Appending locks the single head row, which
orders events and is held only until the caller's transaction commits: record the event as
the last step of a use case.

Details are for ids and counts only. Never pass a name, document number or phone here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from identity.clock import rfc3339, utc_now
from identity.crypto.keyring import Keyring
from identity.errors import KeyringError, OperatorError
from identity.models import AuditChainBase, AuditChainHead, AuditEvent

GENESIS_MAC = bytes(32)


def _canonical(seq: int, occurred_at: datetime, actor: str, action: str, subject: str | None,
               details: str, key_version: int) -> bytes:
    return json.dumps([seq, rfc3339(occurred_at), occurred_at.microsecond, actor, action, subject, details,
                       key_version], ensure_ascii=True, separators=(",", ":")).encode()


def _mac(key: bytes, prev_mac: bytes, body: bytes) -> bytes:
    return hmac.new(key, prev_mac + body, hashlib.sha256).digest()


def ensure_chain_head(session: Session) -> None:
    if session.get(AuditChainHead, 1) is None:
        session.add(AuditChainHead(id=1, seq=0, mac=GENESIS_MAC))
        session.flush()


# Built once: the statements are the same for every event, only the parameters change.
_EVENTS = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditChainHead.__table__)
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.mac).where(_HEAD.c.id == 1).with_for_update()
_INSERT_EVENT = insert(_EVENTS)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("new_seq"), mac=bindparam("new_mac"))
_EVENT_COLUMNS = ("seq", "occurred_at", "actor", "action", "subject", "details", "key_version", "prev_mac", "mac")
# PostgreSQL takes both writes in one statement (a data-modifying CTE), one round trip fewer on
# every state-changing request; SQLite has no such CTE, and no round trips to save.
_APPEND_IN_ONE = text(
    f"WITH appended AS (INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608 - fixed names # nosec B608
    f"VALUES ({', '.join(':' + c for c in _EVENT_COLUMNS)})) "
    "UPDATE audit_chain_head SET seq = :seq, mac = :mac WHERE id = 1"
).bindparams(*(bindparam(c, type_=_EVENTS.c[c].type) for c in _EVENT_COLUMNS))


def record(session: Session, keyring: Keyring, *, actor: str, action: str, subject: str | None = None,
           details: Mapping[str, Any] | None = None, now: datetime | None = None) -> int:
    """Append one event; returns its position on the chain.

    Core statements (lock the head, insert, move the head) rather than ORM objects: this runs in
    every state-changing request, and the unit of work cost more than the SQL.
    """
    key_version, key = keyring.primary("audit")
    connection = session.connection()
    head_seq, head_mac = connection.execute(_LOCK_HEAD).one()
    occurred_at = now or utc_now()
    body = json.dumps(dict(details or {}), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    seq = head_seq + 1
    mac = _mac(key, head_mac, _canonical(seq, occurred_at, actor, action, subject, body, key_version))
    event = {"seq": seq, "occurred_at": occurred_at, "actor": actor, "action": action, "subject": subject,
             "details": body, "key_version": key_version, "prev_mac": head_mac, "mac": mac}
    if connection.dialect.name == "postgresql":
        connection.execute(_APPEND_IN_ONE, event)
    else:
        connection.execute(_INSERT_EVENT, event)
        connection.execute(_MOVE_HEAD, {"new_seq": seq, "new_mac": mac})
    return seq


@dataclass
class ChainReport:
    events: int
    failures: list[str]
    last_seq: int

    @property
    def ok(self) -> bool:
        return not self.failures


def _events_in_order(session: Session, batch: int = 5000, after: int = 0) -> Iterator[AuditEvent]:
    last = after
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.seq > last)
                               .order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment, signed, for the operator to keep outside the database.

    Whoever can write the database can delete the newest events and rewind the head to an
    earlier (seq, MAC) pair, which the events themselves hold: the chain alone cannot tell.
    A checkpoint kept elsewhere can: the log must still reach its seq, with the same MAC.

    The signature is an HMAC-SHA256 under the audit key (domain-separated from the chain's own
    MACs), not a new Ed25519 key: the chain's integrity already rests on that key, so a
    checkpoint is exactly as strong as the chain it vouches for, is verified by the same
    `audit verify`, and follows the audit key's rotation without another key to manage. A
    public-key signature would only add verification by someone outside the service, who
    could not check the chain itself anyway.
    """

    seq: int
    mac: bytes
    key_version: int
    taken_at: datetime
    signature: bytes

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "mac": self.mac.hex(), "key_version": self.key_version,
                "taken_at": rfc3339(self.taken_at), "signature": self.signature.hex()}


_CHECKPOINT_DOMAIN = b"identity/audit-checkpoint/v1\x00"
_BASE_DOMAIN = b"identity/audit-base/v1\x00"


def _position_signature(key: bytes, domain: bytes, seq: int, mac: bytes, moment: str | None) -> bytes:
    return hmac.new(key, domain + json.dumps([seq, mac.hex(), moment]).encode(), hashlib.sha256).digest()


def take_checkpoint(session: Session, keyring: Keyring, now: datetime | None = None) -> Checkpoint:
    """Sign the chain's current head."""
    head = session.get(AuditChainHead, 1)
    seq, mac = (head.seq, head.mac) if head is not None else (0, GENESIS_MAC)
    taken_at = (now or utc_now()).replace(microsecond=0)
    key_version, key = keyring.primary("audit")
    signature = _position_signature(key, _CHECKPOINT_DOMAIN, seq, mac, rfc3339(taken_at))
    return Checkpoint(seq=seq, mac=mac, key_version=key_version, taken_at=taken_at, signature=signature)


class ChainBroken(OperatorError):
    """The part of the chain a purge would remove does not verify."""


class BadCheckpoint(ValueError):
    """The checkpoint file is malformed or its signature does not verify."""


def load_checkpoint(keyring: Keyring, data: Any) -> Checkpoint:
    """Parse a checkpoint as `take_checkpoint` printed it and check its signature."""
    try:
        seq, mac = int(data["seq"]), bytes.fromhex(data["mac"])
        key_version, signature = int(data["key_version"]), bytes.fromhex(data["signature"])
        taken_text = str(data["taken_at"])
        taken_at = datetime.fromisoformat(taken_text.replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        raise BadCheckpoint("the checkpoint is not one `audit checkpoint` printed") from None
    try:
        key = keyring.get("audit", key_version)
    except KeyringError:
        raise BadCheckpoint(f"the checkpoint names audit key version {key_version}, not in the keyring") from None
    expected = _position_signature(key, _CHECKPOINT_DOMAIN, seq, mac, taken_text)
    if len(mac) != 32 or not hmac.compare_digest(expected, signature):
        raise BadCheckpoint("the checkpoint's signature does not verify: it was altered or is not ours")
    return Checkpoint(seq=seq, mac=mac, key_version=key_version, taken_at=taken_at, signature=signature)


@dataclass(frozen=True)
class ChainBase:
    """Where verification starts: genesis, or the last event a purge removed."""

    seq: int
    mac: bytes


def chain_base(session: Session, keyring: Keyring, failures: list[str] | None = None) -> ChainBase:
    row = session.get(AuditChainBase, 1)
    if row is None:
        return ChainBase(0, GENESIS_MAC)
    problem = None
    try:
        key = keyring.get("audit", row.key_version)
    except KeyringError:
        problem = f"the record of the purged part names audit key version {row.key_version}, not in the keyring"
    else:
        if not hmac.compare_digest(_position_signature(key, _BASE_DOMAIN, row.seq, row.mac, None), row.signature):
            problem = "the record of the purged part of the log was altered"
    if problem and failures is not None:
        failures.append(problem)
    return ChainBase(row.seq, row.mac)


def purge_before(session: Session, keyring: Keyring, cutoff: datetime, *, batch: int = 1000) -> int:
    """Delete one batch of the oldest events, all older than `cutoff`; returns how many.

    Only a prefix of the chain goes, and the base moves to its last event (signed) in the same
    transaction, so the kept chain verifies from its oldest event and an interrupted purge
    leaves either the whole batch or none of it. Locking the head serialises this with
    appenders and with another purge.
    """
    connection = session.connection()
    connection.execute(_LOCK_HEAD).one()
    problems: list[str] = []
    base = chain_base(session, keyring, problems)
    rows = connection.execute(select(_EVENTS).where(_EVENTS.c.seq > base.seq)
                              .order_by(_EVENTS.c.seq).limit(batch)).all()
    purged: list[Any] = []
    prev_mac = base.mac
    for row in rows:
        if row.occurred_at >= cutoff:
            break
        # Only an intact prefix is purged: re-signing the base over a broken one would launder it.
        problems.extend(_event_problems(keyring, row, base.seq + len(purged) + 1, prev_mac))
        purged.append(row)
        prev_mac = row.mac
    if problems:
        raise ChainBroken(f"the audit chain does not verify ({problems[0]}); nothing was purged: run "
                          "`identity-admin audit verify` and investigate first")
    if not purged:
        return 0
    last = purged[-1]
    connection.execute(delete(_EVENTS).where(_EVENTS.c.seq > base.seq, _EVENTS.c.seq <= last.seq))
    # Signed with the primary key: the events this purge leaves (its own audit event at least) are
    # chained with that key too, so `keys retire audit` refuses it for as long as the base needs it.
    key_version, key = keyring.primary("audit")
    stored = session.get(AuditChainBase, 1)
    if stored is None:
        stored = AuditChainBase(id=1)
        session.add(stored)
    stored.seq, stored.mac, stored.key_version = last.seq, bytes(last.mac), key_version
    stored.signature = _position_signature(key, _BASE_DOMAIN, last.seq, bytes(last.mac), None)
    stored.purged_at = utc_now()
    session.flush()
    return len(purged)


def _event_problems(keyring: Keyring, event: Any, expected_seq: int, prev_mac: bytes) -> list[str]:
    """What is wrong with one event (an ORM row or a Core row) following `prev_mac` at `expected_seq`."""
    problems = []
    if event.seq != expected_seq:
        problems.append(f"event {expected_seq} is missing (next is {event.seq})")
    if event.prev_mac != prev_mac:
        problems.append(f"event {event.seq} does not link to the event before it")
    try:
        key = keyring.get("audit", event.key_version)
    except KeyringError:
        problems.append(f"event {event.seq} names audit key version {event.key_version}, not in the keyring")
    else:
        body = _canonical(event.seq, event.occurred_at, event.actor, event.action, event.subject,
                          event.details, event.key_version)
        if not hmac.compare_digest(_mac(key, event.prev_mac, body), event.mac):
            problems.append(f"event {event.seq} was altered (its MAC does not match)")
    return problems


def verify_chain(session: Session, keyring: Keyring, checkpoint: Checkpoint | None = None) -> ChainReport:
    """Walk the chain from its base (genesis, or the last purged event) to the head: every MAC,
    every link, no gap, head matches; with a checkpoint, the log still reaches it unchanged."""
    failures: list[str] = []
    base = chain_base(session, keyring, failures)
    prev_mac, expected_seq, count = base.mac, base.seq + 1, 0
    mac_at_checkpoint = base.mac if checkpoint is not None and checkpoint.seq == base.seq else None
    for event in _events_in_order(session, after=base.seq):
        count += 1
        failures.extend(_event_problems(keyring, event, expected_seq, prev_mac))
        if checkpoint is not None and event.seq == checkpoint.seq:
            mac_at_checkpoint = event.mac
        prev_mac, expected_seq = event.mac, event.seq + 1
    head = session.get(AuditChainHead, 1)
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.mac != prev_mac):
        failures.append(f"the chain head names event {head.seq} but the log ends at event {last_seq}")
    if checkpoint is not None:
        if checkpoint.seq > last_seq:
            failures.append(f"the checkpoint names event {checkpoint.seq} but the log ends at event {last_seq}: "
                            "events were deleted from the end")
        elif mac_at_checkpoint is not None and not hmac.compare_digest(mac_at_checkpoint, checkpoint.mac):
            failures.append(f"event {checkpoint.seq} differs from the checkpoint: the log was rewritten after it")
        # A checkpoint older than the purged part cannot be compared event by event; the signed
        # base already proves the kept chain continues from a point the service itself recorded.
    return ChainReport(events=count, failures=failures, last_seq=last_seq)
