"""The service's public keys, fetched from its JWKS and cached.

The set is kept for the response's `Cache-Control: max-age` (revalidated with If-None-Match),
and refetched early when a token names a `kid` it does not hold (the service rotated its
key). Every fetch, scheduled or early, is rate-limited to one per `min_refresh_interval`
seconds: a flood of tokens with made-up kids costs the service at most that one request, and
costs you no network wait, since a refused refresh answers at once from what is cached.
If a refetch fails, the keys already held are kept.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from realname_identity_client._http import TRANSPORT_ERRORS, Transport, default_transport, send
from realname_identity_client.model import InvalidToken

DEFAULT_MAX_AGE = 300.0
LONGEST_MAX_AGE = 24 * 3600.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


def _max_age(cache_control: str | None) -> float:
    found = _MAX_AGE.search(cache_control or "")
    return min(float(found.group(1)), LONGEST_MAX_AGE) if found else DEFAULT_MAX_AGE


def _ed25519_key(jwk: Any) -> tuple[str, Ed25519PublicKey] | None:
    """Only what a token of this service can be signed with: OKP / Ed25519 / EdDSA / sig."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    if jwk.get("alg", "EdDSA") != "EdDSA" or jwk.get("use", "sig") != "sig":
        return None
    kid, x = jwk.get("kid"), jwk.get("x")
    if not isinstance(kid, str) or not isinstance(x, str) or "=" in x:
        return None
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        return kid, Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


class JwksCache:
    def __init__(self, url: str, *, min_refresh_interval: float = 30.0, timeout: float = 5.0,
                 http: Transport | None = None, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.min_refresh_interval = min_refresh_interval
        self._timeout = timeout
        self._http = http or default_transport()
        self._clock = clock
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._fresh_until = float("-inf")
        self._last_attempt = float("-inf")
        self._etag: str | None = None
        self._lock = threading.Lock()
        self.fetches = 0  # requests actually sent: for tests and metrics

    def key(self, kid: str) -> Ed25519PublicKey:
        """The public key for `kid`; raises InvalidToken(unknown_kid) or (unavailable)."""
        now = self._clock()
        if now >= self._fresh_until:
            self._refresh(now)
        key = self._keys.get(kid)
        if key is None:
            self._refresh(now)  # maybe a rotation we have not seen yet; rate-limited
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("unknown_kid" if self._keys else "unavailable")
        return key

    def _refresh(self, now: float) -> None:
        with self._lock:
            if now - self._last_attempt < self.min_refresh_interval:
                return
            self._last_attempt = now
            headers = {"Accept": "application/json"}
            if self._etag and self._keys:
                headers["If-None-Match"] = self._etag
            self.fetches += 1
            try:
                response = send(self._http, "GET", self.url, headers=headers, timeout=self._timeout)
            except TRANSPORT_ERRORS:
                return  # keep what we hold; the next attempt waits for the interval
            if response.status == 304:
                self._fresh_until = now + _max_age(response.headers.get("Cache-Control"))
                return
            if response.status != 200:
                return
            try:
                document = json.loads(response.data)
            except ValueError:
                return
            listed = document.get("keys") if isinstance(document, dict) else None
            if not isinstance(listed, list):
                return
            self._keys = dict(filter(None, (_ed25519_key(jwk) for jwk in listed)))
            self._etag = response.headers.get("ETag")
            self._fresh_until = now + _max_age(response.headers.get("Cache-Control"))
