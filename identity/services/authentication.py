"""Authenticating API keys without an argon2 computation on every request.

The first request with a key pays one argon2id verification; the process then keeps a
SHA-256 digest of the secret in memory, keyed by key id. Later requests compare digests.
Revoking a key or disabling a platform bumps the `auth` epoch, which empties every
process's cache on its next request, so a revocation is effective at once everywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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
    sandbox: bool = False  # a sandbox platform: published test identities only, tokens say `sandbox`

    @property
    def actor(self) -> str:
        return f"platform:{self.platform_id}"


class ApiKeyAuthenticator:
    """Caches, per key id, a digest of the secret that argon2id already accepted.

    A digest proves knowledge of the secret for the life of the process; what can change is
    the key's standing (revoked, platform disabled), so when the `auth` epoch moves an entry is
    re-checked with one indexed query, never with argon2 again.
    """

    def __init__(self, hasher: key_secrets.SecretHasher) -> None:
        self._hasher = hasher
        # key id -> (digest of the accepted secret, principal, auth epoch it was checked under)
        self._verified: dict[str, tuple[bytes, Principal, int]] = {}
        self._lock = threading.Lock()

    def authenticate(self, session: Session, parsed: key_secrets.ParsedApiKey, auth_epoch: int,
                     may_hash: Callable[[], bool] = lambda: True) -> Principal | None:
        """The key's principal, or None. argon2id costs a few hundred milliseconds by design, so
        it runs only when `may_hash()` allows: the caller bounds failed attempts per client
        address there. (A budget per key id would let anyone lock a platform out by sending
        junk secrets with its key id.)"""
        digest = key_secrets.fast_digest(parsed.secret)
        cached = self._verified.get(parsed.key_id)
        if cached is not None and cached[2] == auth_epoch:
            return cached[1] if key_secrets.digests_match(cached[0], digest) else None
        row = session.execute(
            select(ApiKey, Platform).join(Platform, ApiKey.platform_id == Platform.id)
            .where(ApiKey.id == parsed.key_id, ApiKey.revoked_at.is_(None), Platform.status == "active")
        ).first()
        if row is None:
            with self._lock:
                self._verified.pop(parsed.key_id, None)
            return None
        api_key, platform = row
        if cached is not None and key_secrets.digests_match(cached[0], digest):
            pass  # the secret was verified before; only its standing needed the re-check above
        elif not may_hash() or not self._hasher.verify(api_key.secret_hash, parsed.secret):
            return None
        principal = Principal(key_id=api_key.id, platform_id=platform.id, scopes=api_key.scope_set,
                              policy=policy_of(platform), sandbox=platform.sandbox)
        with self._lock:
            if len(self._verified) >= MAX_CACHED_KEYS and api_key.id not in self._verified:
                self._verified.pop(next(iter(self._verified)))
            self._verified[api_key.id] = (digest, principal, auth_epoch)
        return principal
