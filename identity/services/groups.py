"""Groups and their founders: founding within the per-person limits, managers, and closure.

The platform sees accounts; the limits bind the person. A group records its founder's account
(what the platform sees) and person (what the limit counts): `max_groups_per_person` counts the
open groups founded by any of the person's accounts on the platform, and the credit score and
sanctions that may refuse a founding are the person's on that platform. Only groups of the
calling platform are ever reached; another platform's group id answers exactly as an unknown one.

Founding takes the founder's person row lock before counting, so two accounts of one person
founding at once are counted one after the other (on SQLite, write transactions are serialised
anyway). Closing a group is one transaction: the group, the founder's credit penalty, the
suspensions of founder and managers, a blacklist when the score falls under `blacklist_below`,
and the `access` epoch bump that makes every process drop the token permissions it cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from identity.clock import rfc3339
from identity.crypto.keyring import Keyring
from identity.errors import Conflict, GroupCreationRefused, GroupManagementRefused, NotFound, ValidationFailed
from identity.ids import new_group_id
from identity.models import Account, CreditPenalty, Group, GroupManager, Person
from identity.models.group import GROUP_ACTIVE, GROUP_CLOSED
from identity.models.person import ACCOUNT_CLOSED, PERSON_ERASED
from identity.services import audit, credit, epochs, ownership, sanctions
from identity.services.authentication import Principal
from identity.services.webhooks import outbox


@dataclass(frozen=True)
class GroupView:
    """A group as its platform sees it: pseudonyms of its own accounts only."""

    group: Group
    founder: str
    managers: list[str]


def _view(session: Session, group: Group) -> GroupView:
    founder = session.scalar(select(Account.pseudonym).where(Account.id == group.founder_account_id))
    assert founder is not None
    managers = list(session.scalars(
        select(Account.pseudonym).join(GroupManager, GroupManager.account_id == Account.id)
        .where(GroupManager.group_id == group.id).order_by(GroupManager.added_at, Account.pseudonym)))
    return GroupView(group=group, founder=founder, managers=managers)


# --- founding ---------------------------------------------------------------------------------

class Refusal:
    """Why a founding was refused: the audit log's reason code, and the caller's detail."""

    CLOSED = ("account_closed", "The founder's account is closed.")
    SANCTION = ("sanction", "An active sanction suspends the founder's group management on this platform.")
    CREDIT = ("credit", "The founder's credit score is under this platform's minimum for founding groups.")
    LIMIT = ("group_limit", "The founder already founded the maximum number of open groups on this platform.")


def _refuse(reason: tuple[str, str]) -> GroupCreationRefused:
    return GroupCreationRefused(reason[1], extra={"_reason": reason[0]})


def open_groups_founded(session: Session, person: Person, platform_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Group).where(
        Group.platform_id == platform_id, Group.founder_person_id == person.id, Group.status == GROUP_ACTIVE)) or 0


def create(session: Session, keyring: Keyring, principal: Principal, founder: str, external_ref: str | None,
           now: datetime) -> GroupView:
    """Found a group for one of the platform's accounts, if the person behind it may found one.

    Refused (403 `group_creation_refused`) where an active sanction removes `group:create`, the
    person's credit score here is under `min_credit_to_found`, or they already founded
    `max_groups_per_person` open groups here through any of their accounts.
    """
    # Account, then person, as everywhere. The person's lock orders two foundings by the same
    # person (from two of their accounts): the second counts the first's group. The account's is
    # taken first because the group's foreign key share-locks it on PostgreSQL anyway, and taking
    # it after the person's could deadlock with a closure (which holds accounts, then persons).
    account = ownership.require_platform_account(session, principal.platform_id, founder, for_update=True)
    if account.status == ACCOUNT_CLOSED:
        raise _refuse(Refusal.CLOSED)
    person = session.get(Person, account.person_id, with_for_update=True, populate_existing=True)
    assert person is not None
    policy = principal.policy
    active = sanctions.active_on_platform(session, person.id, principal.platform_id, now)
    if "group:create" not in sanctions.permissions_after(active):
        raise _refuse(Refusal.SANCTION)
    if credit.credit_of(session, person.id, principal.platform_id, now).score < policy.min_credit_to_found:
        raise _refuse(Refusal.CREDIT)
    if open_groups_founded(session, person, principal.platform_id) >= policy.max_groups_per_person:
        raise _refuse(Refusal.LIMIT)
    group = Group(id=new_group_id(), platform_id=principal.platform_id, founder_account_id=account.id,
                  founder_person_id=person.id, status=GROUP_ACTIVE, external_ref=external_ref, created_at=now)
    session.add(group)
    session.flush()
    audit.record(session, keyring, actor=principal.actor, action="group.created", subject=group.id,
                 details={"platform": principal.platform_id, "founder": account.pseudonym}, now=now)
    return GroupView(group=group, founder=account.pseudonym, managers=[])


def record_refusal(session: Session, keyring: Keyring, principal: Principal, refused: GroupCreationRefused,
                   now: datetime) -> None:
    """Audit a refused founding (in a transaction of its own: the request's rolls back). Refusals
    are what a platform could probe the per-person count with, so each one is on the log."""
    audit.record(session, keyring, actor=principal.actor, action="group.creation_refused",
                 details={"platform": principal.platform_id, "reason": refused.extra.get("_reason")}, now=now)


# --- reading ----------------------------------------------------------------------------------

def get(session: Session, principal: Principal, group_id: str) -> GroupView:
    return _view(session, ownership.require_platform_group(session, principal.platform_id, group_id))


def founded_by(session: Session, principal: Principal, founder: str) -> list[GroupView]:
    """Groups founded by this account, newest first. By account, not person: listing the person's
    groups would show the platform which of its accounts belong to one person."""
    account = ownership.require_platform_account(session, principal.platform_id, founder)
    rows = session.scalars(select(Group).where(Group.founder_account_id == account.id)
                           .order_by(Group.created_at.desc(), Group.id.desc())).all()
    return [_view(session, group) for group in rows]


# --- managers ---------------------------------------------------------------------------------

def _open_group(session: Session, principal: Principal, group_id: str) -> Group:
    group = ownership.require_platform_group(session, principal.platform_id, group_id, for_update=True)
    if group.status != GROUP_ACTIVE:
        raise Conflict("The group is closed; its managers can no longer change.")
    return group


def add_manager(session: Session, keyring: Keyring, principal: Principal, group_id: str, pseudonym: str,
                now: datetime) -> GroupView:
    """Make one of the platform's accounts a manager. The person behind it must hold `group:manage`
    (no active group-management suspension here): 403 `group_management_refused` otherwise."""
    group = _open_group(session, principal, group_id)
    account = ownership.require_platform_account(session, principal.platform_id, pseudonym)
    if account.id == group.founder_account_id:
        raise ValidationFailed({"pseudonym": ["The founder already manages the group."]})
    if account.status == ACCOUNT_CLOSED:
        raise GroupManagementRefused("The account is closed.")
    active = sanctions.active_on_platform(session, account.person_id, principal.platform_id, now)
    if "group:manage" not in sanctions.permissions_after(active):
        raise GroupManagementRefused("An active sanction suspends this account's group management on this platform.")
    if session.get(GroupManager, (group.id, account.id)) is None:
        session.add(GroupManager(group_id=group.id, account_id=account.id, added_at=now))
        session.flush()
        audit.record(session, keyring, actor=principal.actor, action="group.manager_added", subject=group.id,
                     details={"platform": principal.platform_id, "manager": account.pseudonym}, now=now)
    return _view(session, group)


def remove_manager(session: Session, keyring: Keyring, principal: Principal, group_id: str, pseudonym: str,
                   now: datetime) -> None:
    group = _open_group(session, principal, group_id)
    account = ownership.require_platform_account(session, principal.platform_id, pseudonym)
    manager = session.get(GroupManager, (group.id, account.id))
    if manager is None:
        raise NotFound("The account is not a manager of this group.")
    session.delete(manager)
    session.flush()
    audit.record(session, keyring, actor=principal.actor, action="group.manager_removed", subject=group.id,
                 details={"platform": principal.platform_id, "manager": account.pseudonym}, now=now)


# --- closure ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Closure:
    reason_code: str
    evidence_ref: str


@dataclass
class ClosureOutcome:
    """Everything one closure changed. It is also the seam for webhooks: when they land, the
    `group.closed`, `sanction.created` and `account.restricted` events are stored from this, in
    the same transaction (see docs/groups.md)."""

    view: GroupView
    credit_after: credit.Credit | None
    sanctions: list[sanctions.SanctionView] = field(default_factory=list)


def close(session: Session, keyring: Keyring, principal: Principal, group_id: str, closure: Closure,
          now: datetime) -> ClosureOutcome:
    """Close a group for what it spread, and hold its founder and managers to account, at once.

    The founder's person loses `credit_penalty` points on this platform for `credit_penalty_days`;
    founder and managers (each person once) get a `group_management_suspension` for
    `suspension_days`; where the founder's score falls under `blacklist_below`, a `blacklist`
    too, until the score would climb back by itself. A person whose identity was already erased
    cannot be bound, and is skipped. Lock order: group, then each account, then its person.
    """
    group = ownership.require_platform_group(session, principal.platform_id, group_id, for_update=True)
    if group.status != GROUP_ACTIVE:
        raise Conflict("The group is already closed.")
    policy = principal.policy
    group.status, group.closed_at = GROUP_CLOSED, now
    group.closure_reason_code, group.closure_evidence_ref = closure.reason_code, closure.evidence_ref
    outcome = ClosureOutcome(view=_view(session, group), credit_after=None)
    # Every party's account, then every party's person, each in id order: closing an account
    # takes its account then its person, and a person may be founder and manager through two
    # accounts, so any other order could deadlock with a close of one of them.
    parties = list(session.scalars(
        select(Account).where(Account.pseudonym.in_([outcome.view.founder, *outcome.view.managers]))
        .order_by(Account.id).with_for_update().execution_options(populate_existing=True)))
    persons = {person_id: session.get(Person, person_id, with_for_update=True, populate_existing=True)
               for person_id in sorted({a.person_id for a in parties})}
    founder = next(a for a in parties if a.id == group.founder_account_id)
    founder_person = persons[founder.person_id]
    founder_bound = founder_person is not None and founder_person.state != PERSON_ERASED

    def file(account: Account, kind: str, expires_at: datetime) -> None:
        outcome.sanctions.append(sanctions.file(session, keyring, principal, sanctions.Filing(
            pseudonym=account.pseudonym, kind=kind, reason_code=closure.reason_code,
            evidence_ref=closure.evidence_ref, expires_at=expires_at, group_id=group.id), now))

    if founder_bound:  # an erased person has nobody left to bind
        session.add(CreditPenalty(person_id=founder.person_id, platform_id=principal.platform_id, group_id=group.id,
                                  points=policy.credit_penalty, created_at=now,
                                  expires_at=now + timedelta(days=policy.credit_penalty_days)))
        session.flush()
    suspended_until = now + timedelta(days=policy.suspension_days)
    bound: set[object] = set()
    for account in sorted(parties, key=lambda a: a.id != founder.id):  # the founder's sanction first
        person = persons[account.person_id]
        if account.person_id in bound or person is None or person.state == PERSON_ERASED:
            continue
        bound.add(account.person_id)
        file(account, "group_management_suspension", suspended_until)
    if founder_bound:
        penalties = credit.counting(session, founder.person_id, principal.platform_id, now)
        outcome.credit_after = credit.credit_from(penalties)
        blacklisted_until = credit.recovers_at(penalties, policy.blacklist_below)
        if blacklisted_until is not None:
            file(founder, "blacklist", blacklisted_until)
    epochs.bump(session, "access")  # the founder's `group:create` may change by the score alone
    outbox.record_event(session, principal.platform_id, "group.closed", {
        "group": group.id, "founder": outcome.view.founder, "reason_code": closure.reason_code,
        "sanctions": [s.sanction.id for s in outcome.sanctions], "closed_at": now}, now)
    audit.record(session, keyring, actor=principal.actor, action="group.closed", subject=group.id,
                 details={"platform": principal.platform_id, "reason_code": closure.reason_code,
                          "credit_score": outcome.credit_after.score if outcome.credit_after else None,
                          "sanctions": [s.sanction.id for s in outcome.sanctions],
                          "closed_at": rfc3339(now)}, now=now)
    return outcome
