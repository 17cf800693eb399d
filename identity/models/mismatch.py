"""Registrations that could not be verified, counted to bound what guessing can learn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime


class RegistrationMismatch(Base):
    """One `identity_not_verified` answer: which platform got it, for which document, when.

    `document_ref` is an HMAC of the document under an index key with its own label (see
    identity.crypto.blind_index), never the number, and not equal to the person's blind index.
    Rows older than every window that counts them are deleted as new ones are written.
    """

    __tablename__ = "registration_mismatches"
    __table_args__ = (
        Index("ix_registration_mismatches_platform_time", "platform_id", "occurred_at"),
        Index("ix_registration_mismatches_platform_document_time", "platform_id", "document_ref", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(30))
    document_ref: Mapped[bytes] = mapped_column(LargeBinary(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
