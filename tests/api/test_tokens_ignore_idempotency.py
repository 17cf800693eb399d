"""Token routes ignore `Idempotency-Key`: a token answer is never replayed and never stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from identity.extensions import db
from identity.models import IdempotencyRecord
from tests.support import sanctions
from tests.support.tokens import issue

KEY = {"Idempotency-Key": "same-key-every-time"}


def _introspect(client, auth, token: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.post("/v1/tokens/introspect", data={"token": token}, headers={**auth, **KEY})
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    return dict(response.get_json())


def _stored_bodies(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        bodies = list(db.session.scalars(select(IdempotencyRecord.body)))
        db.session.rollback()
        return bodies


@pytest.fixture
def token(client, auth, pseudonym) -> str:
    return issue(client, auth, pseudonym)["token"]


def test_introspection_with_a_reused_key_sees_a_revocation(client, auth, token):
    assert _introspect(client, auth, token)["active"] is True
    assert client.post("/v1/tokens/revoke", data={"token": token}, headers={**auth, **KEY}).status_code == 200
    assert _introspect(client, auth, token) == {"active": False}


def test_introspection_with_a_reused_key_sees_a_sanction_filed_since(client, auth, pseudonym, token):
    assert "post" in _introspect(client, auth, token)["scope"].split()
    sanctions.file(client, auth, pseudonym, kind="posting_ban")
    answer = _introspect(client, auth, token)
    assert answer["active"] is True and "post" not in answer["scope"].split()


def test_introspection_with_a_reused_key_sees_the_account_closed(client, auth, pseudonym, token):
    assert _introspect(client, auth, token)["active"] is True
    assert client.delete(f"/v1/accounts/{pseudonym}", headers=auth).status_code in (200, 204)
    assert _introspect(client, auth, token) == {"active": False}


def test_token_issue_with_a_reused_key_is_refused_after_a_posting_ban(client, auth, pseudonym):
    body = {"pseudonym": pseudonym}
    first = client.post("/v1/tokens", json=body, headers={**auth, **KEY})
    assert first.status_code == 201
    again = client.post("/v1/tokens", json=body, headers={**auth, **KEY})
    assert again.status_code == 201 and again.get_json()["jti"] != first.get_json()["jti"]  # a new token
    sanctions.file(client, auth, pseudonym, kind="posting_ban")
    refused = client.post("/v1/tokens", json=body, headers={**auth, **KEY})
    assert refused.status_code == 403 and refused.get_json()["code"] == "account_restricted"


def test_no_token_answer_is_kept_in_the_idempotency_table(app, client, auth, pseudonym):
    issued = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers={**auth, **KEY})
    token = issued.get_json()["token"]
    client.post("/v1/tokens/introspect", data={"token": token}, headers={**auth, "Idempotency-Key": "i-1"})
    client.post("/v1/tokens/revoke", data={"token": token}, headers={**auth, "Idempotency-Key": "r-1"})
    assert _stored_bodies(app) == []


def test_a_malformed_key_on_a_token_route_is_ignored_like_any_other(client, auth, pseudonym):
    response = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers={**auth, "Idempotency-Key": ""})
    assert response.status_code == 201
