"""Authenticating API keys without an argon2 computation on every request.

The first request with a key pays one argon2id verification; the process then keeps a
SHA-256 digest of the secret in memory, keyed by key id. Later requests compare digests.
Revoking a key or disabling a platform bumps the `auth` epoch, which empties every
process's cache on its next request, so a revocation is effective at once everywhere.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.crypto import secrets as key_secrets
from identity.models import ApiKey, Platform
from identity.services.platforms import PlatformPolicy, policy_of

MAX_CACHED_KEYS = 10_000
# argon2id costs a few hundred milliseconds by design. A legitimate client needs one
# verification per process (then per auth-epoch change); someone guessing secrets for a known
# key id gets this many per key id per window, then plain 401s, so guessing cannot pin the CPU.
ARGON2_ATTEMPTS_PER_KEY = 10
ARGON2_WINDOW_SECONDS = 60.0


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
        self._attempts: dict[str, deque[float]] = {}

    def authenticate(self, session: Session, parsed: key_secrets.ParsedApiKey, auth_epoch: int) -> Principal | None:
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
        elif not self._may_hash(api_key.id) or not self._hasher.verify(api_key.secret_hash, parsed.secret):
            return None
        principal = Principal(key_id=api_key.id, platform_id=platform.id, scopes=api_key.scope_set,
                              policy=policy_of(platform))
        with self._lock:
            if len(self._verified) >= MAX_CACHED_KEYS and api_key.id not in self._verified:
                self._verified.pop(next(iter(self._verified)))
            self._verified[api_key.id] = (digest, principal, auth_epoch)
        return principal

    def _may_hash(self, key_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            attempts = self._attempts.setdefault(key_id, deque())
            while attempts and attempts[0] <= now - ARGON2_WINDOW_SECONDS:
                attempts.popleft()
            if len(attempts) >= ARGON2_ATTEMPTS_PER_KEY:
                return False
            attempts.append(now)
            if len(self._attempts) > MAX_CACHED_KEYS:
                self._attempts.pop(next(iter(self._attempts)))
            return True
