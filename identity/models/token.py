"""Revoked token ids, kept only until the token would have expired anyway."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(30))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# The contract's longest token lifetime: a signing key demoted from primary must stay in the
# JWKS (and may not be retired) for this long after the next key took over.
MAX_TOKEN_TTL_SECONDS = 3600
