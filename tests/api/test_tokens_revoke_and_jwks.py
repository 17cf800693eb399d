"""POST /v1/tokens/revoke (RFC 7009) and GET /.well-known/jwks.json."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from sqlalchemy import select

from identity.extensions import db
from identity.models import AuditEvent, RevokedToken
from identity.services import epochs
from identity.services.signing import LEEWAY_SECONDS
from tests.support.tokens import claims_of, header_of, introspect, issue


def _revoke(client, headers, token: str, **extra_headers: str):  # type: ignore[no-untyped-def]
    return client.post("/v1/tokens/revoke", data={"token": token}, headers={**headers, **extra_headers})


def _revoked_rows(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(RevokedToken.jti)))


def test_revoking_answers_200_and_the_token_turns_inactive(client, auth, app, pseudonym):
    token = issue(client, auth, pseudonym)["token"]
    response = _revoke(client, auth, token)
    assert response.status_code == 200 and response.get_json() == {}
    assert introspect(client, auth, token) == {"active": False}
    assert _revoked_rows(app) == [claims_of(token)["jti"]]


def test_revoking_takes_json_too_and_twice_is_fine(client, auth, pseudonym):
    token = issue(client, auth, pseudonym)["token"]
    assert client.post("/v1/tokens/revoke", json={"token": token}, headers=auth).status_code == 200
    assert _revoke(client, auth, token).status_code == 200


@pytest.mark.parametrize("junk", ["not-a-token", "a.b.c", "x" * 5000])
def test_revoking_junk_answers_200_and_changes_nothing(client, auth, app, junk):
    assert _revoke(client, auth, junk).get_json() == {}
    assert _revoked_rows(app) == []


def test_a_platform_cannot_revoke_another_platforms_token(client, auth, app, platforms, pseudonym):
    token = issue(client, auth, pseudonym)["token"]
    other = platforms.headers(platforms.create("chat"))
    response = _revoke(client, other, token)
    assert response.status_code == 200 and response.get_json() == {}
    assert introspect(client, auth, token)["active"] is True
    assert _revoked_rows(app) == []


def test_revoking_needs_the_tokens_issue_scope(client, platforms, platform, auth, pseudonym):
    token = issue(client, auth, pseudonym)["token"]
    introspect_only = platforms.headers(platform, ("tokens:introspect",))
    assert _revoke(client, introspect_only, token).status_code == 403
    assert _revoke(client, {}, token).status_code == 401


def test_revocation_is_audited_and_bumps_the_access_epoch(client, auth, app, pseudonym):
    token = issue(client, auth, pseudonym)["token"]
    with app.app_context():
        before = epochs.read_epochs(db.session())["access"]
    _revoke(client, auth, token)
    with app.app_context():
        assert epochs.read_epochs(db.session())["access"] == before + 1
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "token.revoked")).one()
        assert event.subject == claims_of(token)["jti"]
        assert token not in event.details


def test_issuing_writes_no_audit_event(client, auth, app, pseudonym):
    with app.app_context():
        before = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    issue(client, auth, pseudonym)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) == before


def test_revoked_ids_are_kept_only_until_the_token_would_have_expired(client, auth, app, clock, pseudonym):
    short = issue(client, auth, pseudonym, ttl_seconds=60)["token"]
    _revoke(client, auth, short)
    clock.advance(60 + LEEWAY_SECONDS - 1)
    assert introspect(client, auth, short) == {"active": False}  # still refused inside the leeway
    clock.advance(2)
    later = issue(client, auth, pseudonym)["token"]
    _revoke(client, auth, later)  # revoking purges what has expired, opportunistically
    assert _revoked_rows(app) == [claims_of(later)["jti"]]


def test_revoking_an_expired_token_stores_nothing(client, auth, app, clock, pseudonym):
    token = issue(client, auth, pseudonym, ttl_seconds=60)["token"]
    clock.advance(60 + LEEWAY_SECONDS)
    assert _revoke(client, auth, token).status_code == 200
    assert _revoked_rows(app) == []


def _thumbprint(jwk: dict[str, str]) -> str:
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def test_jwks_lists_ed25519_keys_named_by_their_rfc7638_thumbprint(client, auth, pseudonym):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    (key,) = response.get_json()["keys"]
    assert set(key) == {"kty", "crv", "x", "alg", "use", "kid"}
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert key["kid"] == _thumbprint(key)
    assert header_of(issue(client, auth, pseudonym)["token"])["kid"] == key["kid"]


def test_jwks_is_cacheable_and_revalidates_with_its_etag(client, app):
    first = client.get("/.well-known/jwks.json")
    max_age = app.extensions["identity"].settings.jwks_max_age_seconds
    assert f"max-age={max_age}" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]
    second = client.get("/.well-known/jwks.json")
    assert second.get_data() == first.get_data() and second.headers["ETag"] == etag
    unchanged = client.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert client.get("/.well-known/jwks.json", headers={"If-None-Match": '"other"'}).status_code == 200


def test_jwks_needs_no_authentication_and_is_in_the_openapi_document(client):
    assert client.get("/.well-known/jwks.json").status_code == 200
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"/v1/tokens", "/v1/tokens/introspect", "/v1/tokens/revoke", "/.well-known/jwks.json"} <= set(paths)
    body = paths["/v1/tokens/introspect"]["post"]["requestBody"]["content"]
    assert {"application/x-www-form-urlencoded", "application/json"} <= set(body)
    issue_body = paths["/v1/tokens"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert issue_body == {"$ref": "#/components/schemas/TokenRequest"}
    assert "201" in paths["/v1/tokens"]["post"]["responses"]
