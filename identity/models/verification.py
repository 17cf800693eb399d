"""Verification sessions: a platform sends a person to the service's own page to register.

Only a SHA-256 of the page's single-use secret is kept: the secret is 256 random bits, so a plain
digest cannot be reversed, and a database reader cannot open a pending page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime

SESSION_PENDING = "pending"
SESSION_COMPLETED = "completed"
SESSION_FAILED = "failed"
SESSION_EXPIRED = "expired"
SESSION_CANCELED = "canceled"
SESSION_STATUSES = (SESSION_PENDING, SESSION_COMPLETED, SESSION_FAILED, SESSION_EXPIRED, SESSION_CANCELED)


class VerificationSession(Base):
    __tablename__ = "verification_sessions"
    # The purge finds ended sessions by when they last changed.
    __table_args__ = (Index("ix_verification_sessions_status_updated", "status", "updated_at"),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), index=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    return_url: Mapped[str] = mapped_column(String(2000))
    external_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    state: Mapped[str | None] = mapped_column(String(128), nullable=True)
    locale: Mapped[str] = mapped_column(String(8))
    # Stored `pending` until something ends it; `expired` is also derived on read (expires_at passed).
    status: Mapped[str] = mapped_column(String(16), default=SESSION_PENDING)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refused_submissions: Mapped[int] = mapped_column(Integer, default=0)
    last_error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
