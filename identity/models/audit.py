"""The tamper-evident audit log: a keyed hash chain of events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"

    # Position on the chain, assigned under the head lock: gap-free and ordered.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject: Mapped[str | None] = mapped_column(String(80), nullable=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, never personal data in clear
    key_version: Mapped[int] = mapped_column(Integer)
    prev_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditChainHead(Base):
    """A single row (id 1) locked by each appender: it serialises the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditChainBase(Base):
    """Where the kept chain starts once old events are purged (a single row, id 1): the last
    purged event's position and MAC, which the oldest kept event must link to. `signature` is
    an HMAC under audit key `key_version`, so a database writer cannot move the base forward
    to hide events deleted from the start."""

    __tablename__ = "audit_chain_base"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_version: Mapped[int] = mapped_column(Integer)
    signature: Mapped[bytes] = mapped_column(LargeBinary(32))
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime)
