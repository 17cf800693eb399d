"""POST /v1/tokens."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import jwt
import pytest
from sqlalchemy import event

from identity.extensions import db
from identity.services.epochs import EpochReader
from tests.support.people import register
from tests.support.tokens import claims_of, file_sanction, header_of, issue

CONTRACT_CLAIMS = {"iss", "sub", "aud", "iat", "nbf", "exp", "jti", "rnv", "lvl", "adult", "scope"}


def test_issue_returns_an_eddsa_jwt_with_exactly_the_contract_claims(client, auth, platform, pseudonym, app):
    response = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "token_type", "expires_at", "jti"}
    assert body["token_type"] == "Bearer"
    assert response.headers["Cache-Control"] == "no-store"
    header, claims = header_of(body["token"]), claims_of(body["token"])
    assert header["alg"] == "EdDSA" and isinstance(header["kid"], str)
    assert set(claims) == CONTRACT_CLAIMS
    assert claims["iss"] == app.extensions["identity"].settings.issuer
    assert (claims["sub"], claims["aud"], claims["jti"]) == (pseudonym, platform, body["jti"])
    assert claims["rnv"] is True and claims["adult"] is True and claims["lvl"] == "document_checked"
    assert claims["scope"] == "post group:create group:manage"
    assert claims["iat"] == claims["nbf"] and claims["exp"] - claims["iat"] == 900
    assert body["expires_at"] == datetime.fromtimestamp(claims["exp"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_every_token_has_its_own_jti(client, auth, pseudonym):
    assert issue(client, auth, pseudonym)["jti"] != issue(client, auth, pseudonym)["jti"]


@pytest.mark.parametrize("ttl", [60, 3600])
def test_ttl_may_be_anything_from_60_to_3600_seconds(client, auth, pseudonym, ttl):
    claims = claims_of(issue(client, auth, pseudonym, ttl_seconds=ttl)["token"])
    assert claims["exp"] - claims["iat"] == ttl


@pytest.mark.parametrize("ttl", [59, 3601, 0, -1, "900", 900.5, True, None])
def test_ttl_outside_60_to_3600_or_not_an_integer_is_refused(client, auth, pseudonym, ttl):
    response = client.post("/v1/tokens", json={"pseudonym": pseudonym, "ttl_seconds": ttl}, headers=auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "validation_failed"
    assert "ttl_seconds" in response.get_json()["errors"]


def test_unknown_fields_and_missing_pseudonym_are_refused(client, auth, pseudonym):
    unknown = client.post("/v1/tokens", json={"pseudonym": pseudonym, "scope": "post"}, headers=auth)
    assert unknown.status_code == 422 and "scope" in unknown.get_json()["errors"]
    missing = client.post("/v1/tokens", json={}, headers=auth)
    assert missing.status_code == 422 and "pseudonym" in missing.get_json()["errors"]


def test_a_body_that_is_not_json_is_refused_415(client, auth, pseudonym):
    response = client.post("/v1/tokens", data={"pseudonym": pseudonym}, headers=auth)
    assert response.status_code == 415
    assert response.get_json()["code"] == "unsupported_media_type"


def test_another_platforms_pseudonym_is_answered_as_one_that_does_not_exist(client, auth, platforms, pseudonym):
    other = platforms.headers(platforms.create("chat"))
    theirs = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=other)
    nobody = client.post("/v1/tokens", json={"pseudonym": "psn_" + "0" * 26}, headers=other)
    malformed = client.post("/v1/tokens", json={"pseudonym": "psn_nope"}, headers=other)
    assert theirs.status_code == nobody.status_code == malformed.status_code == 404
    assert theirs.get_json() == nobody.get_json() == malformed.get_json()
    assert theirs.get_json()["code"] == "not_found"


def test_issuing_needs_the_tokens_issue_scope(client, platforms, platform, pseudonym):
    no_scope = platforms.headers(platform, ("tokens:introspect",))
    response = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=no_scope)
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    anonymous = client.post("/v1/tokens", json={"pseudonym": pseudonym})
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")


def test_closed_account_gets_account_restricted(client, auth, pseudonym):
    assert client.delete(f"/v1/accounts/{pseudonym}", headers=auth).status_code == 204
    response = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "account_restricted"


@pytest.mark.parametrize("kind", ["posting_ban", "blacklist"])
def test_a_sanction_that_bars_posting_refuses_tokens_at_once(client, auth, app, pseudonym, kind):
    issue(client, auth, pseudonym)  # warm the per-process cache: the sanction must still show at once
    file_sanction(app, pseudonym, kind)
    response = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth)
    assert response.status_code == 403 and response.get_json()["code"] == "account_restricted"


def test_group_management_suspension_removes_group_permissions_from_scope(client, auth, app, pseudonym):
    issue(client, auth, pseudonym)
    file_sanction(app, pseudonym, "group_management_suspension")
    assert claims_of(issue(client, auth, pseudonym)["token"])["scope"] == "post"


def test_a_sanction_ending_by_the_clock_restores_scope_without_any_write(client, auth, app, clock, pseudonym):
    file_sanction(app, pseudonym, "group_management_suspension", expires_at=clock.now() + timedelta(seconds=120))
    assert claims_of(issue(client, auth, pseudonym)["token"])["scope"] == "post"
    clock.advance(121)  # no epoch moves: only the cache entry's own deadline can notice
    assert claims_of(issue(client, auth, pseudonym)["token"])["scope"] == "post group:create group:manage"


def test_a_posting_ban_ending_by_the_clock_allows_tokens_again(client, auth, app, clock, pseudonym):
    file_sanction(app, pseudonym, "posting_ban", expires_at=clock.now() + timedelta(seconds=60))
    assert client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth).status_code == 403
    clock.advance(61)
    assert client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth).status_code == 201


def test_a_minor_comes_of_age_at_the_next_utc_midnight(client, auth, clock):
    today = clock.now().date()
    birthday_tomorrow = date(today.year - 18, today.month, today.day) + timedelta(days=1)
    minor = register(client, auth, birth=birthday_tomorrow)
    assert claims_of(issue(client, auth, minor)["token"])["adult"] is False
    clock.set(datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
    assert claims_of(issue(client, auth, minor)["token"])["adult"] is True


def test_the_token_verifies_with_a_stock_library_against_the_jwks(client, auth, platform, app, pseudonym):
    token = issue(client, auth, pseudonym)["token"]
    jwks = client.get("/.well-known/jwks.json").get_json()
    key = jwt.PyJWKSet.from_dict(jwks)[header_of(token)["kid"]]
    claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=platform,
                        issuer=app.extensions["identity"].settings.issuer)
    assert claims["sub"] == pseudonym


class _Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.full: list[str] = []

    def __call__(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(statement.split()[0].upper())
        self.full.append(statement.strip().upper())


@pytest.mark.budget
def test_a_warm_issue_reads_only_the_epochs_and_writes_nothing(client, auth, app, pseudonym, monkeypatch):
    issue(client, auth, pseudonym)  # first request: the API key's argon2 check and the account are cached
    with app.app_context():
        engine = db.engine
    statements = _Statements()
    opened = []
    monkeypatch.setattr("identity.services.vault.open_identity", lambda *a: opened.append(a))
    monkeypatch.setattr("identity.services.vault.open_birth_date", lambda *a: opened.append(a))
    hasher = app.extensions["identity"].hasher
    monkeypatch.setattr(hasher, "verify", lambda *a: opened.append(a))
    reads = []
    original_read = EpochReader.read
    monkeypatch.setattr(EpochReader, "read", lambda self: reads.append(1) or original_read(self))
    event.listen(engine, "before_cursor_execute", statements)
    try:
        for _ in range(3):
            issue(client, auth, pseudonym)
    finally:
        event.remove(engine, "before_cursor_execute", statements)
    assert opened == []  # no identity data opened, no argon2 computed
    assert len(reads) == 3  # the epoch counters, once per request, on the reader's own connection
    assert statements.seen == []  # and nothing else: no query, no write, no transaction
    assert "BEGIN IMMEDIATE" not in statements.full  # SQLite: no write lock taken for a read
