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

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from identity.clock import rfc3339, utc_now
from identity.crypto.keyring import Keyring
from identity.errors import KeyringError
from identity.models import AuditChainHead, AuditEvent

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


def _events_in_order(session: Session, batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.seq > last)
                               .order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session, keyring: Keyring) -> ChainReport:
    """Walk the chain from genesis to the head: every MAC, every link, no gap, head matches."""
    failures: list[str] = []
    prev_mac, expected_seq, count = GENESIS_MAC, 1, 0
    for event in _events_in_order(session):
        count += 1
        if event.seq != expected_seq:
            failures.append(f"event {expected_seq} is missing (next is {event.seq})")
        if event.prev_mac != prev_mac:
            failures.append(f"event {event.seq} does not link to the event before it")
        try:
            key = keyring.get("audit", event.key_version)
        except KeyringError:
            failures.append(f"event {event.seq} names audit key version {event.key_version}, not in the keyring")
        else:
            body = _canonical(event.seq, event.occurred_at, event.actor, event.action, event.subject,
                              event.details, event.key_version)
            if not hmac.compare_digest(_mac(key, event.prev_mac, body), event.mac):
                failures.append(f"event {event.seq} was altered (its MAC does not match)")
        prev_mac, expected_seq = event.mac, event.seq + 1
    head = session.get(AuditChainHead, 1)
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.mac != prev_mac):
        failures.append(f"the chain head names event {head.seq} but the log ends at event {last_seq}")
    return ChainReport(events=count, failures=failures, last_seq=last_seq)
