"""Lawful disclosure requests, legal holds, and cross-border security assessments.

None of these tables holds identity data: a request or a hold names the account it was filed
against; what an authority receives leaves only sealed to its own key, and is never stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime

# An approval that is not acted on within this window lapses: a stale approval must not stay
# a standing licence to reveal.
APPROVAL_LIFETIME = timedelta(hours=72)

DISCLOSURE_PENDING = "pending"
DISCLOSURE_APPROVED = "approved"
DISCLOSURE_DENIED = "denied"
DISCLOSURE_REVEALED = "revealed"
DISCLOSURE_LAPSED = "lapsed"  # never stored: an approved request past its lifetime


class DisclosureRequest(Base):
    __tablename__ = "disclosure_requests"

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    authority: Mapped[str] = mapped_column(String(200))
    case_ref: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(200))
    # pending | approved | denied | revealed (lapsed is read off the clock, see `status_at`)
    status: Mapped[str] = mapped_column(String(16), default=DISCLOSURE_PENDING)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    denied_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    denied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deny_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    revealed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def status_at(self, moment: datetime) -> str:
        if (self.status == DISCLOSURE_APPROVED and self.approved_at is not None
                and moment >= self.approved_at + APPROVAL_LIFETIME):
            return DISCLOSURE_LAPSED
        return self.status


class LegalHold(Base):
    """While a hold stands (released_at is NULL), the person's identity data is kept even when
    their last account closes."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    case_ref: Mapped[str] = mapped_column(String(200))
    placed_by: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SecurityAssessment(Base):
    """A cross-border security assessment an operator recorded for an overseas platform. The
    newest one whose `valid_until` has not passed lets the platform receive personal data."""

    __tablename__ = "security_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
