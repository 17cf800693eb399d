"""realname_identity_client against a stand-in JWKS endpoint, with an injected clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
import urllib3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from realname_identity_client import IntrospectionClient, InvalidToken, TokenClaims, TokenVerifier

ISSUER, AUDIENCE, NOW = "https://id.example", "plt_forum", 1_800_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    data: bytes


@dataclass
class JwksServer:
    """Stands in for urllib3.PoolManager: serves a JWKS of the keys it holds, counts requests."""

    keys: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    max_age: int = 300
    requests: int = 0
    down: bool = False
    jwks_down: bool = False
    introspection: dict[str, Any] | None = None

    def add_key(self) -> str:
        kid = secrets.token_hex(8)
        self.keys[kid] = Ed25519PrivateKey.generate()
        return kid

    def document(self) -> bytes:
        return json.dumps({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
             "x": b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))}
            for kid, key in self.keys.items()]}).encode()

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Response:
        self.requests += 1
        if self.down or (self.jwks_down and method == "GET"):
            raise urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
        if method == "POST":
            return Response(200, {}, json.dumps(self.introspection or {"active": False}).encode())
        body = self.document()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        cache = {"Cache-Control": f"public, max-age={self.max_age}", "ETag": etag}
        if (headers or {}).get("If-None-Match") == etag:
            return Response(304, cache, b"")
        return Response(200, cache, body)


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "sub": "psn_abc", "aud": AUDIENCE, "iat": NOW, "nbf": NOW, "exp": NOW + 900,
            "jti": "j1", "rnv": True, "lvl": "document_checked", "adult": True, "scope": "post group:create"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(server: JwksServer, kid: str, header: dict[str, Any] | None = None, **changes: Any) -> str:
    head = {"alg": "EdDSA", "kid": kid, "typ": "JWT", **(header or {})}
    signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims(**changes)).encode())}"
    return f"{signing_input}.{b64(server.keys[kid].sign(signing_input.encode()))}"


@pytest.fixture
def server() -> JwksServer:
    return JwksServer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(server: JwksServer, clock: Clock) -> TokenVerifier:
    return TokenVerifier("https://id.example/.well-known/jwks.json", ISSUER, AUDIENCE, http=server,  # type: ignore[arg-type]
                         clock=clock, min_refresh_interval=30)


def reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as raised:
        verifier.verify(token)
    return raised.value.reason


def test_a_good_token_gives_its_claims(server, verifier):
    kid = server.add_key()
    assert verifier.verify(sign(server, kid)) == TokenClaims(
        sub="psn_abc", aud=AUDIENCE, exp=NOW + 900, iat=NOW, jti="j1", rnv=True, lvl="document_checked", adult=True,
        scope=frozenset({"post", "group:create"}))


def test_the_verifier_agrees_with_pyjwt_on_a_good_token(server, verifier):
    kid = server.add_key()
    token = jwt.encode(claims(), server.keys[kid], algorithm="EdDSA", headers={"kid": kid})
    assert verifier.verify(token).sub == "psn_abc"


def test_careful_rejections(server, verifier, clock):
    kid = server.add_key()
    key = server.keys[kid]
    good = sign(server, kid)
    head, payload, signature = good.split(".")
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    hs_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': kid}).encode())}.{payload}"
    cases = {
        "alg none": (f"{b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}.{payload}.", "malformed"),
        "alg none with a signature": (f"{b64(json.dumps({'alg': 'none', 'kid': kid}).encode())}.{payload}.{signature}",
                                      "unsupported_algorithm"),
        "HS256 keyed with the public key": (f"{hs_input}.{b64(hmac.new(public, hs_input.encode(), 'sha256').digest())}",
                                            "unsupported_algorithm"),
        "crit": (sign(server, kid, {"crit": ["exp"]}), "unsupported_algorithm"),
        "bad signature": (f"{head}.{payload}.{b64(bytes(64))}", "bad_signature"),
        "payload swapped": (f"{head}.{sign(server, kid, scope='post group:manage').split('.')[1]}.{signature}",
                            "bad_signature"),
        "padding": (good + "==", "malformed"),
        "standard base64 alphabet": (good.replace("-", "+").replace("_", "/") if ("-" in good or "_" in good)
                                     else good + "+", "malformed"),
        "four segments": (good + ".x", "malformed"),
        "not json": (f"{b64(b'nope')}.{payload}.{signature}", "malformed"),
        "no kid": (sign(server, kid, {"kid": None}), "unknown_kid"),
        "wrong audience": (sign(server, kid, aud="plt_other"), "wrong_audience"),
        "wrong issuer": (sign(server, kid, iss="https://evil.example"), "wrong_issuer"),
        "expired": (sign(server, kid, exp=NOW - 31), "expired"),
        "not yet valid": (sign(server, kid, nbf=NOW + 31), "not_yet_valid"),
        "issued in the future": (sign(server, kid, iat=NOW + 31), "not_yet_valid"),
        "no jti": (sign(server, kid, jti=None), "malformed"),
        "no sub": (sign(server, kid, sub=None), "malformed"),
        "no nbf": (sign(server, kid, nbf=None), "malformed"),
        "exp as a string": (sign(server, kid, exp=str(NOW + 900)), "malformed"),
        "exp as a boolean": (sign(server, kid, exp=True), "malformed"),
        "too long": ("a" * 5000, "malformed"),
    }
    for name, (token, expected) in cases.items():
        assert reason(verifier, token) == expected, name


def test_leeway_of_30_seconds_on_expiry_and_not_before(server, verifier):
    kid = server.add_key()
    assert verifier.verify(sign(server, kid, exp=NOW - 29)).sub == "psn_abc"
    assert verifier.verify(sign(server, kid, nbf=NOW + 29, iat=NOW + 29)).sub == "psn_abc"


def test_an_unknown_kid_triggers_one_refresh_and_a_rotated_key_is_found(server, verifier, clock):
    old = server.add_key()
    verifier.verify(sign(server, old))
    assert server.requests == 1
    new = server.add_key()  # the service rotated
    clock.now += 30
    assert verifier.verify(sign(server, new)).sub == "psn_abc"
    assert server.requests == 2


def test_a_flood_of_made_up_kids_costs_the_service_one_request_per_interval(server, verifier, clock):
    kid = server.add_key()
    verifier.verify(sign(server, kid))
    clock.now += 30
    strangers = Ed25519PrivateKey.generate()
    for n in range(1000):
        forged_kid = f"forged-{n}"
        server.keys[forged_kid] = strangers
        token = sign(server, forged_kid)
        del server.keys[forged_kid]
        assert reason(verifier, token) == "unknown_kid"
        clock.now += 0.01  # 10 seconds of flood in all
    assert server.requests == 2  # the first fetch, and one refresh for the whole flood
    clock.now += 30
    with pytest.raises(InvalidToken):
        verifier.verify(sign(server, kid, {"kid": "forged-again"}))
    assert server.requests == 3  # a new interval allows one more
    assert verifier.verify(sign(server, kid)).sub == "psn_abc"  # the good key was never lost


def test_the_key_set_is_kept_for_max_age_then_revalidated_with_its_etag(server, verifier, clock):
    kid = server.add_key()
    for _ in range(10):
        verifier.verify(sign(server, kid))
    assert server.requests == 1
    clock.now += 301
    verifier.verify(sign(server, kid))
    assert server.requests == 2  # a 304: the cached keys are still good
    assert verifier.jwks._fresh_until == clock.now + 300


def test_a_failing_refresh_keeps_the_keys_already_held(server, verifier, clock):
    kid = server.add_key()
    verifier.verify(sign(server, kid))
    server.down = True
    clock.now += 301
    assert verifier.verify(sign(server, kid)).sub == "psn_abc"


def test_no_keys_at_all_is_unavailable_and_can_fall_back_to_introspection(server, clock):
    server.jwks_down = True
    kid = server.add_key()
    plain = TokenVerifier("https://id.example/jwks", ISSUER, AUDIENCE, http=server, clock=clock)  # type: ignore[arg-type]
    assert reason(plain, sign(server, kid)) == "unavailable"
    online = IntrospectionClient("https://id.example/v1/tokens/introspect", "idk_x_y", http=server)  # type: ignore[arg-type]
    server.introspection = {"active": True, **claims()}
    fallback = TokenVerifier("https://id.example/jwks", ISSUER, AUDIENCE, http=server, clock=clock,  # type: ignore[arg-type]
                             introspection=online, fallback_to_introspection=True)
    assert fallback.verify(sign(server, kid)).sub == "psn_abc"  # the JWKS is unreachable: introspection answers


def test_introspection_inactive_and_unreachable_are_both_invalid_tokens(server):
    online = IntrospectionClient("https://id.example/v1/tokens/introspect", "idk_x_y", http=server)  # type: ignore[arg-type]
    server.introspection = {"active": False}
    with pytest.raises(InvalidToken) as inactive:
        online.introspect("t")
    server.down = True
    with pytest.raises(InvalidToken) as unreachable:
        online.introspect("t")
    assert (inactive.value.reason, unreachable.value.reason) == ("inactive", "unavailable")
