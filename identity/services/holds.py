"""Legal holds: while one stands on a person, closing their last account keeps their identity.

A hold is placed on one of a platform's pseudonyms but, like a sanction, binds the person
behind it: it is the person's data an investigation needs kept. Releasing the last hold on a
person who no longer holds an open account lets the erasure rules apply at once (a sanction
may still keep a trace); `identity-admin purge` settles anyone a release missed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.errors import IdentityErased, OperatorError
from identity.ids import looks_like, new_hold_id
from identity.models import LegalHold, Person
from identity.models.person import PERSON_ERASED
from identity.services import audit, ownership
from identity.services.operators import actor_of, check_text


def has_active_hold(session: Session, person_id: uuid.UUID) -> bool:
    return session.scalar(select(LegalHold.id).where(LegalHold.person_id == person_id,
                                                     LegalHold.released_at.is_(None)).limit(1)) is not None


def place(session: Session, keyring: Keyring, operator: str, *, platform_id: str, pseudonym: str, case_ref: str,
          now: datetime) -> LegalHold:
    case_ref = check_text("--case-ref", case_ref)
    account = ownership.require_platform_account(session, platform_id, pseudonym, for_update=True)
    person = account.person
    session.refresh(person, with_for_update=True)  # an erasure racing the hold either waits or has won
    if person.state == PERSON_ERASED:
        raise IdentityErased("the identity behind this account has already been erased; there is nothing to hold")
    hold = LegalHold(id=new_hold_id(), platform_id=platform_id, account_id=account.id, person_id=person.id,
                     case_ref=case_ref, placed_by=operator, placed_at=now)
    session.add(hold)
    session.flush()
    audit.record(session, keyring, actor=actor_of(operator), action="hold.placed", subject=hold.id,
                 details={"platform": platform_id, "pseudonym": pseudonym}, now=now)
    return hold


def release(session: Session, keyring: Keyring, operator: str, hold_id: str, now: datetime) -> tuple[LegalHold, str]:
    """Release a hold; returns it and the person's state after the erasure rules ran."""
    from identity.services import sanctions  # sanctions' retention rule asks this module about holds

    hold = None
    if looks_like("hld_", hold_id):
        hold = session.scalar(select(LegalHold).where(LegalHold.id == hold_id).with_for_update()
                              .execution_options(populate_existing=True))
    if hold is None:
        raise OperatorError(f"no legal hold {hold_id}")
    if hold.released_at is not None:
        raise OperatorError(f"legal hold {hold.id} was already released")
    hold.released_by, hold.released_at = operator, now
    session.flush()
    person = session.get(Person, hold.person_id)
    assert person is not None
    state = sanctions.apply_retention(session, person, now)
    audit.record(session, keyring, actor=actor_of(operator), action="hold.released", subject=hold.id,
                 details={"platform": hold.platform_id, "person_state": state}, now=now)
    return hold, state
