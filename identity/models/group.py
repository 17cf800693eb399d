"""Groups on a platform, their managers, and the credit penalties a group's closure costs its founder.

A group names its founder by account (what the platform sees) and by person (what the per-person
limit counts). A credit penalty binds the person on one platform and ends by the clock
(`expires_at`), as a sanction does: no job has to run for it to stop counting.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime

GROUP_ACTIVE = "active"
GROUP_CLOSED = "closed"


class Group(Base):
    __tablename__ = "groups"
    # Counting a person's open groups on a platform (the founding limit) reads this index only.
    __table_args__ = (Index("ix_groups_platform_founder_person", "platform_id", "founder_person_id", "status"),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"))
    founder_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    founder_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    status: Mapped[str] = mapped_column(String(16), default=GROUP_ACTIVE)
    external_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closure_reason_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closure_evidence_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)


class GroupManager(Base):
    __tablename__ = "group_managers"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CreditPenalty(Base):
    """Points off a person's credit score on one platform, until `expires_at`."""

    __tablename__ = "credit_penalties"
    __table_args__ = (Index("ix_credit_penalties_person_platform", "person_id", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"))
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
