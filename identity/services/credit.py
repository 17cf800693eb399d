"""Credit: a score from 0 to 100 per person and platform, lowered by the closure of a group the
person founded, each penalty counting until its `expires_at`.

Nothing is stored as "the score": it is computed at read time from the penalties that still
count, so a penalty stops counting at its expiry without any job running, and lifting a
sanction filed by the same closure does not give the points back (docs/groups.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.models import CreditPenalty

FULL_SCORE = 100
# The lowest score of each level, highest first (contract: A >= 90, B >= 70, C >= 50, D below).
LEVELS = (("A", 90), ("B", 70), ("C", 50), ("D", 0))


@dataclass(frozen=True)
class Credit:
    score: int
    level: str
    # The first moment the score rises by itself (a penalty expires); None when nothing counts.
    changes_at: datetime | None = None


def level_of(score: int) -> str:
    return next(level for level, lowest in LEVELS if score >= lowest)


FULL_CREDIT = Credit(score=FULL_SCORE, level=level_of(FULL_SCORE))


def counting(session: Session, person_id: uuid.UUID, platform_id: str, now: datetime) -> list[CreditPenalty]:
    """The person's penalties on this platform that still count."""
    return list(session.scalars(select(CreditPenalty).where(
        CreditPenalty.person_id == person_id, CreditPenalty.platform_id == platform_id,
        CreditPenalty.expires_at > now)))


def credit_from(penalties: Sequence[CreditPenalty]) -> Credit:
    if not penalties:
        return FULL_CREDIT
    score = max(0, FULL_SCORE - sum(p.points for p in penalties))
    return Credit(score=score, level=level_of(score), changes_at=min(p.expires_at for p in penalties))


def credit_of(session: Session, person_id: uuid.UUID, platform_id: str, now: datetime) -> Credit:
    return credit_from(counting(session, person_id, platform_id, now))


def recovers_at(penalties: Sequence[CreditPenalty], threshold: int) -> datetime | None:
    """The first moment the score climbs back to `threshold` as penalties expire; None if it is
    not under it now. A blacklist filed for a low score ends then: its cause has stopped counting."""
    remaining = sum(p.points for p in penalties)
    if FULL_SCORE - remaining >= threshold:
        return None
    for penalty in sorted(penalties, key=lambda p: p.expires_at):
        remaining -= penalty.points
        if FULL_SCORE - remaining >= threshold:
            return penalty.expires_at
    raise AssertionError("with every penalty expired the score is 100, at or above any threshold")


def has_counting_penalty(session: Session, person_id: uuid.UUID, now: datetime) -> bool:
    """Any penalty still counting, on any platform: like an active sanction, it keeps a trace of a
    person with no open account, so that registering again does not reset their score."""
    return session.scalar(select(CreditPenalty.id).where(CreditPenalty.person_id == person_id,
                                                         CreditPenalty.expires_at > now).limit(1)) is not None
