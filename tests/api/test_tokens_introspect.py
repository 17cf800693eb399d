"""POST /v1/tokens/introspect (RFC 7662)."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import event

from identity import create_app
from identity.extensions import db
from identity.services.epochs import EpochReader
from identity.services.signing import LEEWAY_SECONDS
from tests.support.tokens import (
    claims_of,
    file_sanction,
    header_of,
    introspect,
    issue,
    lift_sanction,
    resign,
    sign_raw,
    signing_private_key,
    unsigned,
)

ACTIVE_FIELDS = {"active", "sub", "aud", "exp", "iat", "jti", "rnv", "lvl", "adult", "scope"}
INACTIVE = b'{"active":false}'


@pytest.fixture
def token(client, auth, pseudonym) -> str:
    return issue(client, auth, pseudonym, ttl_seconds=600)["token"]


def _raw(client, headers, token: str) -> bytes:
    response = client.post("/v1/tokens/introspect", data={"token": token}, headers=headers)
    assert response.status_code == 200
    return response.get_data().strip()


def test_an_active_token_introspects_with_its_claims(client, auth, platform, pseudonym, token):
    response = client.post("/v1/tokens/introspect", data={"token": token}, headers=auth)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    claims = claims_of(token)
    assert set(body) == ACTIVE_FIELDS
    assert body == {"active": True, **{k: claims[k] for k in ACTIVE_FIELDS - {"active"}}}
    assert body["sub"] == pseudonym and body["aud"] == platform


def test_the_token_may_come_as_a_form_field_or_a_json_key(client, auth, token):
    form = client.post("/v1/tokens/introspect", data={"token": token, "token_type_hint": "access_token"},
                       headers=auth)
    as_json = client.post("/v1/tokens/introspect", json={"token": token}, headers=auth)
    assert form.get_json() == as_json.get_json() and form.get_json()["active"] is True


@pytest.mark.parametrize("body", [{"data": {}}, {"data": {"token": ""}}, {"json": {}}, {"json": {"token": ""}}],
                         ids=["form-missing", "form-empty", "json-missing", "json-empty"])
def test_a_missing_or_empty_token_is_inactive(client, auth, body):
    response = client.post("/v1/tokens/introspect", headers=auth, **body)
    assert response.status_code == 200 and response.get_data().strip() == INACTIVE


def test_an_unknown_or_repeated_parameter_is_a_validation_problem(client, auth, token):
    unknown = client.post("/v1/tokens/introspect", data={"token": token, "client_id": "x"}, headers=auth)
    assert unknown.status_code == 422 and "client_id" in unknown.get_json()["errors"]
    repeated = client.post("/v1/tokens/introspect", data={"token": [token, token]}, headers=auth)
    assert repeated.status_code == 422


def test_other_body_types_are_refused_415(client, auth, token):
    response = client.post("/v1/tokens/introspect", data=token, content_type="text/plain", headers=auth)
    assert response.status_code == 415


def test_introspection_needs_the_tokens_introspect_scope(client, platforms, platform, token):
    issuer_only = platforms.headers(platform, ("tokens:issue",))
    response = client.post("/v1/tokens/introspect", data={"token": token}, headers=issuer_only)
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_a_sanction_filed_after_issue_shows_in_scope_at_once(client, auth, app, pseudonym, token):
    assert introspect(client, auth, token)["scope"] == "post group:create group:manage"
    sanction = file_sanction(app, pseudonym, "posting_ban")
    after = introspect(client, auth, token)
    assert after["active"] is True and after["scope"] == "group:create group:manage"
    lift_sanction(app, sanction)
    assert introspect(client, auth, token)["scope"] == "post group:create group:manage"


def test_a_closed_account_makes_its_tokens_inactive(client, auth, pseudonym, token):
    assert introspect(client, auth, token)["active"] is True
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    assert _raw(client, auth, token) == INACTIVE


def test_a_revoked_token_is_inactive(client, auth, token):
    assert introspect(client, auth, token)["active"] is True
    client.post("/v1/tokens/revoke", data={"token": token}, headers=auth)
    assert _raw(client, auth, token) == INACTIVE


def test_expiry_and_not_before_are_read_off_the_clock_with_a_small_leeway(client, auth, clock, token):
    claims = claims_of(token)
    clock.set(datetime.fromtimestamp(claims["exp"] + LEEWAY_SECONDS - 1, UTC))
    assert introspect(client, auth, token)["active"] is True  # within the documented leeway
    clock.advance(1)
    assert _raw(client, auth, token) == INACTIVE
    clock.set(datetime.fromtimestamp(claims["nbf"] - LEEWAY_SECONDS - 1, UTC))
    assert _raw(client, auth, token) == INACTIVE


def test_another_platforms_token_is_inactive_and_looks_like_any_other(client, auth, platforms, token):
    other = platforms.headers(platforms.create("chat"))
    assert _raw(client, other, token) == INACTIVE


def _forgeries(app, token: str) -> dict[str, str]:
    kid, key = signing_private_key(app)
    claims, header = claims_of(token), header_of(token)
    public_raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    stranger = Ed25519PrivateKey.generate()
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    tampered_claims = resign(token, stranger, kid, scope="post group:create group:manage", sub=claims["sub"])
    return {
        "malformed": "not-a-token",
        "three_dots_of_nothing": "a.b.c",
        "empty_signature": f"{head}.{payload}.",
        "alg_none": unsigned(claims, {"alg": "none", "kid": kid, "typ": "JWT"}),
        # PyJWT refuses to HMAC with key-like material, so this one is built by hand.
        "hs256_with_the_public_key": _hs256(claims, public_raw, kid),
        "unknown_kid": jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": "no-such-key"}),
        "stranger_key_claiming_our_kid": tampered_claims,
        "bad_signature": f"{head}.{payload}.{flipped}",
        "payload_swapped": f"{head}.{resign(token, key, kid, scope='x').split('.')[1]}.{signature}",
        "wrong_issuer": resign(token, key, kid, iss="https://evil.example"),
        "missing_jti": resign(token, key, kid, jti=None),
        "missing_nbf": resign(token, key, kid, nbf=None),
        "string_exp": resign(token, key, kid, exp=str(claims["exp"])),
        "crit_header": sign_raw({"alg": "EdDSA", "kid": kid, "crit": ["exp"], "exp": 1}, claims, key),
        "too_long": token + "A" * 5000,
        "header_kid_not_a_string": sign_raw({"alg": "EdDSA", "kid": 1}, claims, key),
        "header_alg_changed": f"{unsigned({}, {**header, 'alg': 'EdDSA '}).split('.')[0]}.{payload}.{signature}",
    }


def _hs256(claims: dict, secret: bytes, kid: str) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': kid}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


FORGERIES = ["malformed", "three_dots_of_nothing", "empty_signature", "alg_none", "hs256_with_the_public_key",
             "unknown_kid", "stranger_key_claiming_our_kid", "bad_signature", "payload_swapped", "wrong_issuer",
             "missing_jti", "missing_nbf", "string_exp", "crit_header", "too_long", "header_kid_not_a_string",
             "header_alg_changed"]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_every_kind_of_bad_token_gets_the_same_inactive_body(client, auth, app, token, forgery):
    forged = _forgeries(app, token)[forgery]
    assert _raw(client, auth, forged) == INACTIVE
    assert introspect(client, auth, token)["active"] is True  # the genuine one is untouched


def test_a_forged_token_reusing_a_cached_tokens_jti_is_still_inactive(client, auth, app, token):
    assert introspect(client, auth, token)["active"] is True  # now cached
    kid, _ = signing_private_key(app)
    forged = resign(token, Ed25519PrivateKey.generate(), kid)
    assert _raw(client, auth, forged) == INACTIVE


def test_revocation_in_one_process_is_seen_at_once_by_another(client, auth, settings, token):
    other_process = create_app(settings).test_client()  # its own caches, same database
    assert introspect(other_process, auth, token)["active"] is True  # cached there now
    client.post("/v1/tokens/revoke", data={"token": token}, headers=auth)
    assert _raw(other_process, auth, token) == INACTIVE


@pytest.mark.budget
def test_a_warm_introspection_reads_only_the_epochs(client, auth, app, token, monkeypatch):
    introspect(client, auth, token)
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if statement.split()[0].upper() != "BEGIN":  # SQLite's own; a deferred, read-only one here
            seen.append(statement.split()[0].upper())

    reads = []
    original_read = EpochReader.read
    monkeypatch.setattr(EpochReader, "read", lambda self: reads.append(1) or original_read(self))
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            assert introspect(client, auth, token)["active"] is True
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(reads) == 3  # the epoch counters, once per request, on the reader's own connection
    assert seen == []  # and nothing else
