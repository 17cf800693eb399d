"""API keys: generated at random, shown once, kept only as an argon2id hash.

A key reads `idk_<key id body>_<secret>`. The key id finds the row without hashing; the
secret is checked with argon2id once per process, then against a SHA-256 digest held in
memory only (see `identity.services.authentication`), so a request costs no argon2 computation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import Type

PREFIX = "idk_"


@dataclass(frozen=True)
class ParsedApiKey:
    key_id: str
    secret: str


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(30)).decode("ascii").lower()


def format_api_key(key_id: str, secret: str) -> str:
    return f"{PREFIX}{key_id.removeprefix('key_')}_{secret}"


def parse_api_key(raw: str) -> ParsedApiKey | None:
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    body, sep, secret = raw[len(PREFIX):].partition("_")
    if not sep or not body or not secret:
        return None
    return ParsedApiKey(key_id="key_" + body, secret=secret)


def fast_digest(secret: str) -> bytes:
    """A memory-only digest of a 240-bit random secret: not guessable, so SHA-256 suffices here."""
    return hashlib.sha256(secret.encode("ascii", "replace")).digest()


def digests_match(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


class SecretHasher:
    def __init__(self, *, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib,
                                      parallelism=parallelism, type=Type.ID)

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, stored_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
