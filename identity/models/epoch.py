"""Change counters that tell every server process when its caches went stale."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base

# keys: the keyring changed; auth: a key was revoked or a platform disabled;
# access: a token was revoked, an account closed, or a sanction filed, lifted or widened;
# mismatches: a registration mismatch was counted (identity.services.mismatches).
EPOCH_TOPICS = ("keys", "auth", "access", "mismatches")


class CacheEpoch(Base):
    __tablename__ = "cache_epochs"

    topic: Mapped[str] = mapped_column(String(16), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
