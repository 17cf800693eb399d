"""Every key of every kind, encrypted under the root key, with its version and state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime

KEY_KINDS = ("data", "index", "signing", "audit")
KEY_PRIMARY = "primary"   # encrypts / signs / indexes new records
KEY_ACTIVE = "active"     # still decrypts or verifies
KEY_RETIRED = "retired"   # material destroyed


class KeyVersion(Base):
    __tablename__ = "key_versions"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    # AES-256-GCM under the root key; NULL once retired (the key is gone for good).
    material_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RotationJob(Base):
    """One key rotation, resumable: progress is committed with every batch.

    `cursor` is the last person id the forward pass finished (keyset pagination resumes after
    it); `total` is how many records needed the new key when the job started, for progress;
    `failed` counts records the final sweep could not move (reported by id, never by content).
    """

    __tablename__ = "rotation_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    target_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # running | done
    processed: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cursor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class MaintenanceLock(Base):
    """A named lock row so that two rotations cannot run at once.

    `owner` is `host:pid:nonce`. The holder refreshes `heartbeat_at` in every batch
    transaction; a lock whose holder is a dead process on this host, or whose heartbeat is
    older than `services.maintenance_lock.STALE_AFTER_SECONDS`, may be taken over.
    """

    __tablename__ = "maintenance_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
