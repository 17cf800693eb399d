"""Sanctions: filing, lifting and widening them, the queries other use cases depend on, and
what a person's sanctions require the service to keep of their identity.

A sanction binds the person (person_id), not the account, and is active until it is lifted
or its `expires_at` passes: expiry is read off the clock, no job has to run for the effect to
end. Every change bumps the `access` epoch in the same transaction, so per-process caches of
token permissions drop at once.

Retention (`apply_retention`): a person with an open account anywhere keeps their identity data.
Without one, an active sanction of any kind keeps a *trace*: the blind index, and the DEK with
the encrypted document (so the index can be recomputed when the index key rotates). That is
all a sanction needs to follow the person through a new registration; name, phone and birth
date are dropped. Once no sanction is active the trace is erased too: when the person is next
touched (registration, closing, filing, lifting) or by `identity-admin sanctions purge-expired`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from identity.clock import rfc3339
from identity.crypto.keyring import Keyring
from identity.engine_behaviour import scrub_after_commit
from identity.errors import Conflict, IdentityErased, NotFound, ValidationFailed
from identity.ids import looks_like, new_sanction_id
from identity.models import Account, CreditPenalty, LegalHold, Person, Sanction
from identity.models.person import ACCOUNT_ACTIVE, ACCOUNT_CLOSED, PERSON_ACTIVE, PERSON_ERASED, PERSON_TRACE
from identity.services import audit, credit, epochs, holds, ownership, vault
from identity.services.authentication import Principal
from identity.services.operators import CLI_OPERATOR
from identity.services.webhooks import announcements


def _is_active(now: datetime) -> ColumnElement[bool]:
    return and_(Sanction.lifted_at.is_(None), or_(Sanction.expires_at.is_(None), Sanction.expires_at > now))


def active_on_platform(session: Session, person_id: uuid.UUID, platform_id: str, now: datetime) -> list[Sanction]:
    """The person's active sanctions filed by this platform: what it may see and what limits it."""
    return list(session.scalars(
        select(Sanction).where(Sanction.person_id == person_id, Sanction.platform_id == platform_id,
                               _is_active(now)).order_by(Sanction.created_at, Sanction.id)))


def registration_block(session: Session, person_id: uuid.UUID, platform_id: str, now: datetime) -> Sanction | None:
    """An active blacklist covering this platform: filed by it, or widened to every platform."""
    return session.scalars(
        select(Sanction).where(Sanction.person_id == person_id, Sanction.kind == "blacklist", _is_active(now),
                               or_(Sanction.platform_id == platform_id, Sanction.scope == "global"))
        .order_by(Sanction.expires_at.is_(None).desc(), Sanction.expires_at.desc())).first()


def has_active_sanction(session: Session, person_id: uuid.UUID, now: datetime) -> bool:
    """Any active sanction, on any platform: what keeps a trace of a person with no open account."""
    return session.scalar(select(Sanction.id).where(Sanction.person_id == person_id, _is_active(now)).limit(1)) \
        is not None


TOKEN_PERMISSIONS = ("post", "group:create", "group:manage")
_REMOVES = {
    "posting_ban": {"post"},
    "blacklist": {"post"},
    "group_management_suspension": {"group:create", "group:manage"},
}


def permissions_after(active: list[Sanction]) -> list[str]:
    """What a token's `scope` still allows once these sanctions are applied, in contract order."""
    removed = set().union(*(_REMOVES.get(s.kind, set()) for s in active)) if active else set()
    return [p for p in TOKEN_PERMISSIONS if p not in removed]


# --- filing, reading, lifting, widening -------------------------------------------------------

@dataclass(frozen=True)
class Filing:
    pseudonym: str
    kind: str
    reason_code: str
    evidence_ref: str
    expires_at: datetime | None
    group_id: str | None = None  # set when a group's closure files it


@dataclass(frozen=True)
class SanctionView:
    """A sanction as its platform sees it: with the pseudonym it was filed against and its status now."""

    sanction: Sanction
    pseudonym: str
    status: str


def _view(session: Session, sanction: Sanction, now: datetime) -> SanctionView:
    pseudonym = session.scalar(select(Account.pseudonym).where(Account.id == sanction.account_id))
    assert pseudonym is not None
    return SanctionView(sanction=sanction, pseudonym=pseudonym, status=sanction.status_at(now))


def _locked(session: Session, person: Person) -> Person:
    """Re-read the person under a row lock: closing, filing, lifting and re-registering decide
    what to keep of them, and must not decide it from each other's stale reads. Lock order:
    account or sanction row first, then the person (never the other way round)."""
    session.refresh(person, with_for_update=True)
    return person


def file(session: Session, keyring: Keyring, principal: Principal, filing: Filing, now: datetime) -> SanctionView:
    """File a sanction against one of the platform's pseudonyms; it binds the person behind it on
    this platform, all of their accounts there, at once.

    A closed account may be sanctioned while the platform itself still holds the person: another
    open account of theirs here, or an active sanction or counting credit penalty of this platform
    (which keeps a trace).
    That is how a platform that closed an account for illegal content keeps the person from coming
    back. Otherwise the filing is refused with 410 `identity_erased` (file before closing), also
    when the person still holds accounts on other platforms: the answer must not tell one
    platform what the person holds on another.
    """
    if filing.expires_at is not None and filing.expires_at <= now:
        raise ValidationFailed({"expires_at": ["Must be in the future."]})
    # Account, then person: the order closing takes them in (it updates the account first), so
    # a filing racing a close waits for it instead of deadlocking with it.
    account = ownership.require_platform_account(session, principal.platform_id, filing.pseudonym, for_update=True)
    person = _locked(session, account.person)
    if person.state == PERSON_ERASED or (
            account.status == ACCOUNT_CLOSED and not _held_by_platform(session, person.id, principal.platform_id, now)):
        raise IdentityErased("The identity behind this closed account is no longer held for this platform, so a "
                             "sanction cannot bind the person; file sanctions before closing the account.")
    sanction = Sanction(id=new_sanction_id(), platform_id=principal.platform_id, person_id=person.id,
                        account_id=account.id, kind=filing.kind, reason_code=filing.reason_code,
                        evidence_ref=filing.evidence_ref, scope="platform", created_at=now,
                        expires_at=filing.expires_at, group_id=filing.group_id)
    session.add(sanction)
    session.flush()
    epochs.bump(session, "access")
    apply_retention(session, person, now)  # filed after the last account closed: reduce to a trace
    announcements.sanction_filed(session, sanction, now)
    audit.record(session, keyring, actor=principal.actor, action="sanction.filed", subject=sanction.id,
                 details={"platform": principal.platform_id, "kind": sanction.kind,
                          "reason_code": sanction.reason_code, "expires_at": rfc3339(sanction.expires_at)},
                 now=now)
    return SanctionView(sanction=sanction, pseudonym=account.pseudonym, status=sanction.status_at(now))


def _held_by_platform(session: Session, person_id: uuid.UUID, platform_id: str, now: datetime) -> bool:
    """Whether the platform's own records keep the person: an open account, an active sanction or
    a counting credit penalty of this platform. Nothing another platform holds counts."""
    open_here = select(Account.id).where(Account.person_id == person_id, Account.platform_id == platform_id,
                                         Account.status == ACCOUNT_ACTIVE).limit(1)
    return (session.scalar(open_here) is not None
            or session.scalar(select(Sanction.id).where(Sanction.person_id == person_id,
                                                        Sanction.platform_id == platform_id, _is_active(now))
                              .limit(1)) is not None
            or session.scalar(select(CreditPenalty.id).where(CreditPenalty.person_id == person_id,
                                                             CreditPenalty.platform_id == platform_id,
                                                             CreditPenalty.expires_at > now).limit(1)) is not None)


def get(session: Session, principal: Principal, sanction_id: str, now: datetime) -> SanctionView:
    return _view(session, ownership.require_platform_sanction(session, principal.platform_id, sanction_id), now)


def history(session: Session, principal: Principal, pseudonym: str, now: datetime) -> list[SanctionView]:
    """Every sanction binding the person behind this pseudonym on this platform, newest first,
    lifted and expired included, whichever of the person's accounts here it was filed against:
    the platform already sees them all in each account's `restrictions`."""
    account = ownership.require_platform_account(session, principal.platform_id, pseudonym)
    rows = session.execute(
        select(Sanction, Account.pseudonym).join(Account, Account.id == Sanction.account_id)
        .where(Sanction.person_id == account.person_id, Sanction.platform_id == principal.platform_id)
        .order_by(Sanction.created_at.desc(), Sanction.id.desc())).all()
    return [SanctionView(sanction=s, pseudonym=p, status=s.status_at(now)) for s, p in rows]


def lift(session: Session, keyring: Keyring, principal: Principal, sanction_id: str, reason: str,
         now: datetime) -> SanctionView:
    """End an active sanction early. Lifting one that already ended is a conflict (409): the
    history must say how it ended, and a second lift would rewrite it."""
    sanction = ownership.require_platform_sanction(session, principal.platform_id, sanction_id, for_update=True)
    status = sanction.status_at(now)
    if status != "active":
        raise Conflict(f"The sanction is already {status}; only an active sanction can be lifted.")
    sanction.lifted_at, sanction.lift_reason = now, reason
    session.flush()
    epochs.bump(session, "access")
    person = session.get(Person, sanction.person_id)
    assert person is not None
    state = apply_retention(session, person, now)
    announcements.sanction_lifted(session, sanction, now)
    # The lift reason is free text a person may have written into; it stays out of the log.
    audit.record(session, keyring, actor=principal.actor, action="sanction.lifted", subject=sanction.id,
                 details={"platform": principal.platform_id, "kind": sanction.kind, "person_state": state},
                 now=now)
    return _view(session, sanction, now)


@dataclass(frozen=True)
class Widening:
    sanction: Sanction
    changed: bool


def widen_to_global(session: Session, keyring: Keyring, sanction_id: str, now: datetime) -> Widening:
    """An operator makes an active blacklist cover every platform: they all refuse the person's
    registrations. Nothing else reaches the other platforms: `restrictions` and token scopes
    stay per platform, and a refusal does not say who filed the blacklist or why."""
    sanction = None
    if looks_like("snc_", sanction_id):
        sanction = session.scalar(select(Sanction).where(Sanction.id == sanction_id).with_for_update()
                                  .execution_options(populate_existing=True))
    if sanction is None:
        raise NotFound(f"no sanction {sanction_id}")
    if sanction.kind != "blacklist":
        raise Conflict(f"sanction {sanction.id} is a {sanction.kind}; only a blacklist can be made global")
    status = sanction.status_at(now)
    if status != "active":
        raise Conflict(f"sanction {sanction.id} is {status}; only an active blacklist can be made global")
    changed = sanction.scope != "global"
    if changed:
        sanction.scope = "global"
        session.flush()
        epochs.bump(session, "access")
    audit.record(session, keyring, actor=CLI_OPERATOR, action="sanction.widened", subject=sanction.id,
                 details={"platform": sanction.platform_id, "kind": sanction.kind, "scope": "global",
                          "changed": changed}, now=now)
    return Widening(sanction=sanction, changed=changed)


# --- what a person's sanctions keep of them ---------------------------------------------------

def has_open_account(session: Session, person_id: uuid.UUID) -> bool:
    return session.scalar(select(Account.id).where(Account.person_id == person_id,
                                                   Account.status == ACCOUNT_ACTIVE).limit(1)) is not None


def apply_retention(session: Session, person: Person, now: datetime) -> str:
    """After a person's accounts, sanctions or holds changed: keep everything while they hold an
    open account or a legal hold stands; else keep a trace while any sanction is active or any
    credit penalty counts (so a new registration does not reset the score); else erase. Returns
    the new state."""
    person = _locked(session, person)
    if (person.state == PERSON_ERASED or has_open_account(session, person.id)
            or holds.has_active_hold(session, person.id)):
        return person.state
    if has_active_sanction(session, person.id, now) or credit.has_counting_penalty(session, person.id, now):
        if person.state == PERSON_ACTIVE:
            vault.reduce_to_trace(person)
            person.state = PERSON_TRACE
            scrub_after_commit(session)
    else:
        vault.shred(person)
        person.state, person.erased_at = PERSON_ERASED, now
        scrub_after_commit(session)  # the old ciphertexts must not outlive the answer in the files
    session.flush()
    return person.state


@dataclass(frozen=True)
class PurgeBatch:
    examined: int
    erased: int


def purge_expired_traces(session: Session, keyring: Keyring, now: datetime, *, batch: int = 500) -> PurgeBatch:
    """Erase one batch of traces whose sanctions have all ended and whose credit penalties no
    longer count.

    Nothing depends on this running (an ended sanction stops refusing at once, by the clock);
    it bounds how long a trace outlives its sanctions. Erased people drop out of the query, so
    calling it until it examines none, committing after each batch, resumes wherever an
    interrupted run stopped. A trace revived or sanctioned again meanwhile is left alone.
    """
    active = exists().where(Sanction.person_id == Person.id, _is_active(now))
    held = exists().where(LegalHold.person_id == Person.id, LegalHold.released_at.is_(None))
    counting = exists().where(CreditPenalty.person_id == Person.id, CreditPenalty.expires_at > now)
    people = session.scalars(select(Person).where(Person.state == PERSON_TRACE, ~active, ~held, ~counting)
                             .order_by(Person.id).limit(batch)).all()
    erased = sum(apply_retention(session, person, now) == PERSON_ERASED for person in people)
    if people:
        audit.record(session, keyring, actor=CLI_OPERATOR, action="sanction_traces.purged",
                     details={"examined": len(people), "erased": erased}, now=now)
    return PurgeBatch(examined=len(people), erased=erased)
