"""Authenticating API keys without an argon2 computation on every request.

The first request with a key pays one argon2id verification; the process then keeps a
SHA-256 digest of the secret in memory, keyed by key id. Later requests compare digests.
Revoking a key or disabling a platform bumps the `auth` epoch, which empties every
process's cache on its next request, so a revocation is effective at once everywhere.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.crypto import secrets as key_secrets
from identity.models import ApiKey, Platform
from identity.services.platforms import PlatformPolicy, policy_of

MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True)
class Principal:
    key_id: str
    platform_id: str
    scopes: frozenset[str]
    policy: PlatformPolicy

    @property
    def actor(self) -> str:
        return f"platform:{self.platform_id}"


class ApiKeyAuthenticator:
    def __init__(self, hasher: key_secrets.SecretHasher) -> None:
        self._hasher = hasher
        self._cache: dict[str, tuple[bytes, Principal]] = {}
        self._epoch: int | None = None
        self._lock = threading.Lock()

    def authenticate(self, session: Session, raw_key: str, auth_epoch: int) -> Principal | None:
        parsed = key_secrets.parse_api_key(raw_key)
        if parsed is None:
            return None
        digest = key_secrets.fast_digest(parsed.secret)
        with self._lock:
            if self._epoch != auth_epoch:
                self._cache.clear()
                self._epoch = auth_epoch
            cached = self._cache.get(parsed.key_id)
        if cached is not None:
            return cached[1] if key_secrets.digests_match(cached[0], digest) else None
        row = session.execute(
            select(ApiKey, Platform).join(Platform, ApiKey.platform_id == Platform.id)
            .where(ApiKey.id == parsed.key_id, ApiKey.revoked_at.is_(None), Platform.status == "active")
        ).first()
        if row is None:
            return None
        api_key, platform = row
        if not self._hasher.verify(api_key.secret_hash, parsed.secret):
            return None
        principal = Principal(key_id=api_key.id, platform_id=platform.id, scopes=api_key.scope_set,
                              policy=policy_of(platform))
        with self._lock:
            if self._epoch == auth_epoch:
                if len(self._cache) >= MAX_CACHED_KEYS:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[api_key.id] = (digest, principal)
        return principal
