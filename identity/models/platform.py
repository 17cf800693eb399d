"""Platforms (forums, chat services) and the API keys an operator issues them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from identity.models.base import Base, UTCDateTime


class Platform(Base):
    __tablename__ = "platforms"

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | disabled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A sandbox accepts only the published test identities (services/sandbox.py); set at onboarding, for life.
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="platform")


class ApiKey(Base):
    """Only an argon2id hash of the secret is kept; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(400))  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    platform: Mapped[Platform] = relationship(back_populates="api_keys")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())
