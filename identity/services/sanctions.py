"""Sanction queries the registration and account use cases depend on.

A sanction binds the person (person_id), not the account, and is active until it is lifted
or its `expires_at` passes: expiry is read off the clock, no job has to run.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from identity.models import Sanction


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


def bars_posting(active: list[Sanction]) -> bool:
    return "post" not in permissions_after(active)
