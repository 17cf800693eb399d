"""Offline verification of the service's tokens, as strict as a careful JWT library.

The compact JWS is parsed here rather than by a general JWT library because only one shape is
ever valid (EdDSA, a kid, no `crit`), and the general path costs about a third of the time of
the signature check itself. Accepted only: three base64url segments without padding; a JSON
header whose `alg` is exactly `EdDSA` (so `none` and HS256-with-the-public-key are refused) and
whose `kid` is in the JWKS; a good Ed25519 signature, checked before the claims are parsed;
then `iss`, `aud`, `sub`, `jti`, `iat`, `nbf`, `exp` present and of the right types, issuer and
audience equal to yours, and the times within `leeway` seconds (default 30) of your clock.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature

from realname_identity_client._http import Transport, default_transport
from realname_identity_client.discovery import DiscoveryError, ServerMetadata, fetch_metadata
from realname_identity_client.introspection import IntrospectionClient
from realname_identity_client.jwks import JwksCache
from realname_identity_client.model import InvalidToken, TokenClaims

MAX_TOKEN_LENGTH = 4096
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class TokenVerifier:
    """Verify tokens offline against the JWKS at `jwks_url`, for your platform (`audience`).
    `TokenVerifier.from_issuer(issuer, audience)` finds `jwks_url` in the issuer's metadata.

    With an `introspection` client, `verify(token, online=True)` also asks the service (to see
    a revocation or a sanction filed since the token was issued) and returns its current
    answer; and with `fallback_to_introspection=True`, a token that cannot be checked offline
    because no keys could be fetched is checked online instead.
    """

    def __init__(self, jwks_url: str, issuer: str, audience: str, *, leeway: float = 30.0,
                 min_refresh_interval: float = 30.0, timeout: float = 5.0,
                 introspection: IntrospectionClient | None = None, fallback_to_introspection: bool = False,
                 http: Transport | None = None, clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.jwks = JwksCache(jwks_url, min_refresh_interval=min_refresh_interval, timeout=timeout, http=http,
                              clock=clock)
        self.introspection = introspection
        self.fallback_to_introspection = fallback_to_introspection and introspection is not None
        self._clock = clock
        self._header_kids: dict[str, str] = {}  # header segment -> kid, for headers that passed the checks
        self.metadata: ServerMetadata | None = None

    @classmethod
    def from_issuer(cls, issuer: str, audience: str, *, api_key: str | None = None, leeway: float = 30.0,
                    min_refresh_interval: float = 30.0, timeout: float = 5.0,
                    fallback_to_introspection: bool = False, http: Transport | None = None,
                    clock: Callable[[], float] = time.time) -> TokenVerifier:
        """Configured from the issuer URL alone: its RFC 8414 metadata names the JWKS and, when you
        pass an `api_key` with the `tokens:introspect` scope, the introspection endpoint.

        Fetches the metadata once, now (call it at start-up); raises DiscoveryError if it cannot.
        """
        http = http or default_transport()
        metadata = fetch_metadata(issuer, timeout=timeout, http=http)
        introspection = None
        if api_key is not None:
            if metadata.introspection_endpoint is None:
                raise DiscoveryError("the metadata names no introspection_endpoint")
            introspection = IntrospectionClient(metadata.introspection_endpoint, api_key, timeout=timeout, http=http)
        verifier = cls(metadata.jwks_uri, issuer, audience, leeway=leeway, min_refresh_interval=min_refresh_interval,
                       timeout=timeout, introspection=introspection,
                       fallback_to_introspection=fallback_to_introspection, http=http, clock=clock)
        verifier.metadata = metadata
        return verifier

    def verify(self, token: str, *, online: bool = False) -> TokenClaims:
        if online and self.introspection is None:
            raise ValueError("online verification needs an IntrospectionClient")
        try:
            claims = self._verify_offline(token)
        except InvalidToken as error:
            if error.reason == "unavailable" and self.fallback_to_introspection:
                assert self.introspection is not None
                return self.introspection.introspect(token)
            raise
        if online:
            assert self.introspection is not None
            return self.introspection.introspect(token)
        return claims

    def _verify_offline(self, token: str) -> TokenClaims:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _COMPACT_JWS.fullmatch(token):
            raise InvalidToken("malformed")
        header_b64, payload_b64, signature_b64 = token.split(".")
        try:
            signature = _b64(signature_b64)
        except (ValueError, binascii.Error):
            raise InvalidToken("malformed") from None
        kid = self._header_kids.get(header_b64)
        if kid is None:
            kid = self._kid_from_header(header_b64)
        key = self.jwks.key(kid)
        try:
            key.verify(signature, f"{header_b64}.{payload_b64}".encode("ascii"))
        except InvalidSignature:
            raise InvalidToken("bad_signature") from None
        try:
            claims = json.loads(_b64(payload_b64))
        except (ValueError, binascii.Error):
            raise InvalidToken("malformed") from None
        if not isinstance(claims, dict):
            raise InvalidToken("malformed")
        return self._check_claims(claims)

    def _kid_from_header(self, header_b64: str) -> str:
        try:
            header = json.loads(_b64(header_b64))
        except (ValueError, binascii.Error):
            raise InvalidToken("malformed") from None
        if not isinstance(header, dict):
            raise InvalidToken("malformed")
        if header.get("alg") != "EdDSA" or "crit" in header or header.get("typ", "JWT") != "JWT":
            raise InvalidToken("unsupported_algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("unknown_kid")
        # Every token signed with one key has the same header: remember the few good ones seen.
        if len(self._header_kids) >= 16:
            self._header_kids.clear()
        self._header_kids[header_b64] = kid
        return kid

    def _check_claims(self, claims: dict[str, Any]) -> TokenClaims:
        for name in ("nbf", "iat", "exp"):
            if not _is_int(claims.get(name)):
                raise InvalidToken("malformed")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong_issuer")
        aud = claims.get("aud")
        if aud != self.audience and not (isinstance(aud, list) and self.audience in aud):
            raise InvalidToken("wrong_audience")
        now = self._clock()
        if claims["exp"] + self.leeway <= now:
            raise InvalidToken("expired")
        if claims["nbf"] - self.leeway > now or claims["iat"] - self.leeway > now:
            raise InvalidToken("not_yet_valid")
        if isinstance(aud, list):
            claims = {**claims, "aud": self.audience}
        return TokenClaims.from_mapping(claims)
