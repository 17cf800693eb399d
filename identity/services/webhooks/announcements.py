"""The events of sanctions and of the accounts they restrict, each stored exactly once.

An account is `restricted` while any sanction of its platform binds its person. So
`account.restricted` is stored when a filing finds no other sanction in force, and
`account.unrestricted` when a sanction ends (lifted, or expired) and no other one was still in
force at that moment: of several that end at the same instant, the one with the highest id
announces it. The events go to the filing platform only, for each of the person's open accounts
there.

Expiry needs no job for its effect, but its announcement does: the delivery worker sweeps
sanctions whose `expires_at` passed and whose `expiry_announced_at` is not set yet, stores
`sanction.expired` (and `account.unrestricted` where due), and sets the marker in the same
transaction. Rows are taken `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers split
the sweep and none announces an expiry twice. A filing or a lift for the same person first
announces the expiries that passed and are not announced yet, so a platform never hears of a
new restriction before an earlier end.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from identity.models import Account, Sanction
from identity.models.person import ACCOUNT_ACTIVE
from identity.services.webhooks.outbox import EventRecorder


def _open_pseudonyms(session: Session, person_id: uuid.UUID, platform_id: str) -> list[str]:
    return list(session.scalars(select(Account.pseudonym).where(
        Account.person_id == person_id, Account.platform_id == platform_id, Account.status == ACCOUNT_ACTIVE)
        .order_by(Account.id)))


def _pseudonym_of(session: Session, sanction: Sanction) -> str:
    pseudonym = session.scalar(select(Account.pseudonym).where(Account.id == sanction.account_id))
    assert pseudonym is not None
    return pseudonym


def _others_in_force(session: Session, sanction: Sanction, moment: datetime, *, ending: bool) -> bool:
    """Whether another sanction of the same person and platform was in force at `moment`.
    When `sanction` ends at `moment`, one ending at the same instant counts only if its id is
    higher (it will announce the end instead)."""
    end = func.coalesce(Sanction.lifted_at, Sanction.expires_at)
    later = or_(end.is_(None), end > moment)
    if ending:
        later = or_(later, and_(end == moment, Sanction.id > sanction.id))
    return session.scalar(select(Sanction.id).where(
        Sanction.person_id == sanction.person_id, Sanction.platform_id == sanction.platform_id,
        Sanction.id != sanction.id, Sanction.created_at <= moment, later).limit(1)) is not None


def _sanction_data(session: Session, sanction: Sanction) -> dict[str, object]:
    return {"sanction": sanction.id, "pseudonym": _pseudonym_of(session, sanction), "kind": sanction.kind,
            "reason_code": sanction.reason_code, "group": sanction.group_id}


def sanction_filed(session: Session, sanction: Sanction, now: datetime) -> None:
    """`sanction.created`, and `account.restricted` where no other sanction was in force."""
    events = EventRecorder(session, sanction.platform_id, now)
    if not (events.wants("sanction.created") or events.wants("account.restricted")
            or events.wants("account.unrestricted") or events.wants("sanction.expired")):
        return
    announce_passed_expiries(session, sanction.person_id, sanction.platform_id, now, events)
    events.record("sanction.created", {**_sanction_data(session, sanction), "created_at": sanction.created_at,
                                       "expires_at": sanction.expires_at})
    if events.wants("account.restricted") and not _others_in_force(session, sanction, now, ending=False):
        for pseudonym in _open_pseudonyms(session, sanction.person_id, sanction.platform_id):
            events.record("account.restricted", {"pseudonym": pseudonym, "sanction": sanction.id,
                                                 "restricted_at": now})


def _ended(session: Session, sanction: Sanction, moment: datetime, how: str, events: EventRecorder) -> None:
    events.record(f"sanction.{how}", {**_sanction_data(session, sanction), f"{how}_at": moment})
    if events.wants("account.unrestricted") and not _others_in_force(session, sanction, moment, ending=True):
        for pseudonym in _open_pseudonyms(session, sanction.person_id, sanction.platform_id):
            events.record("account.unrestricted", {"pseudonym": pseudonym, "sanction": sanction.id,
                                                   "unrestricted_at": moment})


def sanction_lifted(session: Session, sanction: Sanction, now: datetime) -> None:
    """`sanction.lifted`, and `account.unrestricted` where it was the last one in force."""
    events = EventRecorder(session, sanction.platform_id, now)
    if not (events.wants("sanction.lifted") or events.wants("account.unrestricted")
            or events.wants("sanction.expired")):
        return
    announce_passed_expiries(session, sanction.person_id, sanction.platform_id, now, events)
    _ended(session, sanction, now, "lifted", events)


def _unannounced_expiries(now: datetime) -> Select[tuple[Sanction]]:
    return select(Sanction).where(Sanction.expiry_announced_at.is_(None), Sanction.expires_at <= now,
                                  Sanction.lifted_at.is_(None))


def _announce_expiry(session: Session, sanction: Sanction, now: datetime, events: EventRecorder) -> None:
    assert sanction.expires_at is not None
    _ended(session, sanction, sanction.expires_at, "expired", events)
    sanction.expiry_announced_at = now


def announce_passed_expiries(session: Session, person_id: uuid.UUID, platform_id: str, now: datetime,
                             events: EventRecorder) -> None:
    """Before a new filing or lift is announced: the person's expiries here not announced yet."""
    for sanction in session.scalars(_unannounced_expiries(now).where(
            Sanction.person_id == person_id, Sanction.platform_id == platform_id)
            .order_by(Sanction.expires_at, Sanction.id).with_for_update()):
        _announce_expiry(session, sanction, now, events)
    session.flush()


def sweep_expired(session: Session, now: datetime, *, batch: int = 200) -> int:
    """One batch of the worker's sweep: announce sanctions whose expiry passed; how many it took."""
    taken = list(session.scalars(_unannounced_expiries(now).order_by(Sanction.expires_at, Sanction.id)
                                 .limit(batch).with_for_update(skip_locked=True)))
    recorders: dict[str, EventRecorder] = {}
    for sanction in taken:
        events = recorders.setdefault(sanction.platform_id, EventRecorder(session, sanction.platform_id, now))
        _announce_expiry(session, sanction, now, events)
    session.flush()
    return len(taken)
