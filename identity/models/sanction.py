"""Sanctions bind the person, not the account: they carry the person id."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime

SANCTION_KINDS = ("posting_ban", "group_management_suspension", "blacklist")
REASON_CODES = (
    "illegal_content", "false_information", "violence", "terrorism",
    "pornography", "fraud", "spam", "other",
)


class Sanction(Base):
    __tablename__ = "sanctions"
    __table_args__ = (Index("ix_sanctions_person_platform", "person_id", "platform_id"),
                      Index("ix_sanctions_expiry_unannounced", "expiry_announced_at", "expires_at"))

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the pseudonym it was filed against
    kind: Mapped[str] = mapped_column(String(40))
    reason_code: Mapped[str] = mapped_column(String(40))
    evidence_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    scope: Mapped[str] = mapped_column(String(16), default="platform")  # platform | global
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The group whose closure filed it, if one did.
    group_id: Mapped[str | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    # When the `sanction.expired` webhook event was stored for it (the delivery worker's sweep):
    # set once, so each expiry is announced exactly once.
    expiry_announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def status_at(self, moment: datetime) -> str:
        """`lifted`, `expired` or `active`: expiry needs no job, it is read off the clock."""
        if self.lifted_at is not None:
            return "lifted"
        if self.expires_at is not None and self.expires_at <= moment:
            return "expired"
        return "active"
