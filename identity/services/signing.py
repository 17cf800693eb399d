"""Token-signing keys: which one signs, which ones verify, and the JWKS that publishes them.

`kid` is the RFC 7638 JWK thumbprint of the public key (base64url SHA-256 of the canonical
`{"crv","kty","x"}` JSON). It names the key material itself, not its row: a restored or
re-created database can never publish a different key under a `kid` that posting services
already cache, and any JOSE library can recompute it to check a JWKS entry.

A demoted signing key (`primary` -> `active`) signed its last token before the next version's
`created_at`; that token lives at most MAX_TOKEN_TTL_SECONDS (plus the verifiers' leeway), so
the key is published and accepted for `PUBLICATION_WINDOW` after it and leaves the JWKS
afterwards, by the clock.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.models import KeyVersion
from identity.models.keyring import KEY_RETIRED
from identity.models.token import MAX_TOKEN_TTL_SECONDS

# Clock skew tolerated on nbf/iat/exp, by the service and by realname_identity_client. A revoked jti and
# a demoted key are kept this much longer than the token's own lifetime for the same reason.
LEEWAY_SECONDS = 30
# How long a demoted signing key stays in the JWKS, and verifies, after its successor's `created_at`:
# the longest token it may have signed, plus the leeway. Key retirement waits for the same moment.
PUBLICATION_WINDOW = timedelta(seconds=MAX_TOKEN_TTL_SECONDS + LEEWAY_SECONDS)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    x = b64url(public.public_bytes(Encoding.Raw, PublicFormat.Raw))
    return {"kty": "OKP", "crv": "Ed25519", "x": x}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, without whitespace."""
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"),
                           sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def kid_of(material: bytes) -> str:
    """The kid that names a signing key's raw private material in the JWKS and token headers."""
    return thumbprint(public_jwk(Ed25519PrivateKey.from_private_bytes(material).public_key()))


@dataclass(frozen=True)
class SigningKey:
    version: int
    kid: str
    private: Ed25519PrivateKey
    public: Ed25519PublicKey
    jwk: dict[str, str]
    # None while the key may still sign or has no successor; else when its last token is dead.
    published_until: datetime | None

    def published_at(self, now: datetime) -> bool:
        return self.published_until is None or now < self.published_until

    def sign(self, claims: dict[str, object]) -> str:
        """The claims as a compact JWS signed with EdDSA under this key's kid, written by PyJWT
        (the library every verifier reads them with; see bench/README.md for what that costs)."""
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid})


@dataclass(frozen=True)
class Jwks:
    body: bytes
    etag: str


class SigningKeys:
    """Every non-retired signing key of one keyring generation, with its publication window."""

    def __init__(self, keys: list[SigningKey], primary_version: int) -> None:
        self._keys = keys
        self._by_kid = {k.kid: k for k in keys}
        self.primary = next(k for k in keys if k.version == primary_version)
        self._jwks: dict[tuple[str, ...], Jwks] = {}

    def verifying_key(self, kid: str, now: datetime) -> Ed25519PublicKey | None:
        """The public key for `kid` if it is still published (and so may verify a live token)."""
        key = self._by_kid.get(kid)
        return key.public if key is not None and key.published_at(now) else None

    def jwks(self, now: datetime) -> Jwks:
        """The JWKS document; the same bytes and ETag for as long as the published set is the same."""
        published = [k for k in self._keys if k.published_at(now)]
        ident = tuple(k.kid for k in published)
        cached = self._jwks.get(ident)
        if cached is None:
            keys = [{**k.jwk, "alg": "EdDSA", "use": "sig", "kid": k.kid} for k in published]
            body = json.dumps({"keys": keys}, separators=(",", ":")).encode()
            cached = Jwks(body=body, etag='"' + b64url(hashlib.sha256(body).digest()[:18]) + '"')
            self._jwks[ident] = cached
        return cached


def load_signing_keys(session: Session, keyring: Keyring) -> SigningKeys:
    """Match the keyring's signing material to its rows' creation times to get each window."""
    rows = session.execute(select(KeyVersion.version, KeyVersion.created_at)
                           .where(KeyVersion.kind == "signing", KeyVersion.state != KEY_RETIRED)
                           .order_by(KeyVersion.version)).all()
    created = {version: created_at for version, created_at in rows}
    primary_version, _ = keyring.primary("signing")
    keys = []
    for version, material in keyring.versions("signing").items():
        private = Ed25519PrivateKey.from_private_bytes(material)
        public = private.public_key()
        jwk = public_jwk(public)
        successors = [at for v, at in created.items() if v > version]
        until = None
        if version != primary_version and successors:
            until = min(successors) + PUBLICATION_WINDOW
        keys.append(SigningKey(version=version, kid=thumbprint(jwk), private=private, public=public, jwk=jwk,
                               published_until=until))
    keys.sort(key=lambda k: (k.version != primary_version, -k.version))  # primary first, then newest
    return SigningKeys(keys, primary_version)
