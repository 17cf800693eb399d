"""People and their accounts.

A person row holds identity data only as ciphertext under the person's own data key
(`dek_wrapped`), and a keyed blind index of the document that finds "the same person"
without decrypting. Destroying `dek_wrapped` erases the person (crypto-shredding).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from identity.models.base import Base, UTCDateTime

# Person lifecycle.
PERSON_ACTIVE = "active"          # holds identity data
PERSON_TRACE = "sanction_trace"   # erased but for the index and document an active sanction needs
PERSON_ERASED = "erased"          # key destroyed; nothing left but this tombstone

ACCOUNT_ACTIVE = "active"
ACCOUNT_CLOSED = "closed"


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # Indexed: the purge of ended sanctions looks for traces, a small share of all people.
    state: Mapped[str] = mapped_column(String(16), default=PERSON_ACTIVE, index=True)
    # HMAC of the normalised document under index key `doc_index_version`; NULL once erased,
    # so a later registration of the same document starts a fresh person.
    doc_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True, nullable=True)
    doc_index_version: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    # The person's data key, wrapped by key-encryption key `dek_version`.
    dek_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    dek_version: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    document_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    birth_date_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # Derived and monotonic: once 18, always 18. Lets tokens carry `adult` without decrypting.
    adult: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    accounts: Mapped[list[Account]] = relationship(back_populates="person")


class Account(Base):
    """A person's account on one platform, known to the platform only by its pseudonym.

    `slot` is 1..max_accounts_per_person while the account is open and NULL once closed; the
    unique constraint on (platform, person, slot) is what decides races between registrations
    of the same person, whatever the platform's maximum.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("platform_id", "person_id", "slot"),
        Index("ix_accounts_platform_external_ref", "platform_id", "external_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(String(30), unique=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), index=True)
    slot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ACCOUNT_ACTIVE)
    external_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    verification_level: Mapped[str] = mapped_column(String(32))
    verification_method: Mapped[str] = mapped_column(String(32))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_notice_version: Mapped[str] = mapped_column(String(64))
    consent_accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    guardian_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    person: Mapped[Person] = relationship(back_populates="accounts")
