"""The contract's conventions: content types, sizes, auth, scopes, errors, idempotency, docs."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from identity.extensions import db
from identity.models import Account
from tests.support.people import registration


def test_missing_or_malformed_keys_are_unauthorized_with_a_challenge(client):
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer nonsense"},
                    {"Authorization": "Bearer idk_00000000000000000000000000_secret"}):
        response = client.post("/v1/registrations", json=registration(), headers=headers)
        assert response.status_code == 401
        assert response.get_json()["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_for_a_real_key_id_is_unauthorized(client, platforms, platform):
    key = platforms.key(platform)
    forged = key[: key.rindex("_") + 1] + "a" * 48
    assert client.get("/v1/accounts?external_ref=x", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_key_without_the_scope_is_forbidden(client, platforms, platform):
    headers = platforms.headers(platform, scopes=("accounts:read",))
    response = client.post("/v1/registrations", json=registration(), headers=headers)
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_revoked_keys_and_disabled_platforms_stop_working_at_once(app, client, platforms, platform):
    from identity.cli.command_boundary import keyring
    from identity.services import platforms as platform_service

    key = platforms.key(platform)
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/accounts?external_ref=x", headers=headers).status_code == 200
    key_id = "key_" + key.split("_")[1]
    with app.app_context():
        platform_service.revoke_api_key(db.session(), keyring(), key_id)
        db.session.commit()
    assert client.get("/v1/accounts?external_ref=x", headers=headers).status_code == 401
    other = platforms.headers(platform)
    assert client.get("/v1/accounts?external_ref=x", headers=other).status_code == 200
    with app.app_context():
        platform_service.disable_platform(db.session(), keyring(), platform)
        db.session.commit()
    assert client.get("/v1/accounts?external_ref=x", headers=other).status_code == 401


def test_a_body_that_is_not_json_is_unsupported(client, auth):
    response = client.post("/v1/registrations", data="real_name=x", headers=auth,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["code"] == "unsupported_media_type"


def test_malformed_json_is_a_validation_failure(client, auth):
    response = client.post("/v1/registrations", data="{not json", headers=auth, content_type="application/json")
    assert response.status_code == 422 and "body" in response.get_json()["errors"]


def test_bodies_over_64_kib_are_too_large(client, auth):
    body = registration(external_ref="x" * (70 * 1024))
    response = client.post("/v1/registrations", data=json.dumps(body), headers=auth, content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_unknown_routes_and_methods_are_problems(client, auth):
    missing = client.get("/v1/nothing", headers=auth)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.put("/v1/registrations", json={}, headers=auth)
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"
    assert "POST" in wrong.headers["Allow"]


def test_an_unexpected_failure_is_a_generic_500_that_echoes_nothing(app, client, auth, monkeypatch, caplog):
    from identity.services import registration as registration_service

    def explode(session, keyring, caller, prepared, *rest):
        identity = prepared.identity  # an exception whose message carries personal data
        raise RuntimeError(f"boom {identity.real_name} {identity.document.number}")

    monkeypatch.setattr(registration_service, "register", explode)
    response = client.post("/v1/registrations", json=registration("11010519491231002X"), headers=auth)
    assert response.status_code == 500
    assert response.get_json()["code"] == "internal_error"
    assert "张三" not in response.get_data(as_text=True) and "boom" not in response.get_data(as_text=True)
    assert "11010519491231002X" not in caplog.text and "张三" not in caplog.text
    assert "RuntimeError" in caplog.text


def test_idempotency_key_replays_the_first_response(app, client, auth):
    headers = {**auth, "Idempotency-Key": "reg-1"}
    first = client.post("/v1/registrations", json=registration(), headers=headers)
    again = client.post("/v1/registrations", json=registration(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1


def test_idempotency_key_with_another_body_is_refused(client, auth):
    headers = {**auth, "Idempotency-Key": "reg-2"}
    assert client.post("/v1/registrations", json=registration(), headers=headers).status_code == 201
    other = client.post("/v1/registrations", json=registration(sequence=9), headers=headers)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"


def test_idempotency_keys_are_per_platform(client, platforms):
    one, two = platforms.headers(platforms.create()), platforms.headers(platforms.create())
    a = client.post("/v1/registrations", json=registration(), headers={**one, "Idempotency-Key": "k"})
    b = client.post("/v1/registrations", json=registration(), headers={**two, "Idempotency-Key": "k"})
    assert a.status_code == b.status_code == 201
    assert a.get_json()["pseudonym"] != b.get_json()["pseudonym"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ключ"])
def test_malformed_idempotency_keys_are_refused(client, auth, key):
    response = client.post("/v1/registrations", json=registration(), headers={**auth, "Idempotency-Key": key})
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]


def test_rate_limits_answer_429_with_retry_after(tmp_path, database_url, root_key_file):
    from identity import create_app
    from tests.conftest import Platforms, make_settings

    settings = make_settings(tmp_path / "i", database_url, root_key_file)
    from dataclasses import replace

    app = create_app(replace(settings, rate_limit="3 per minute"))
    helper = Platforms(app)
    headers = helper.headers(helper.create())
    client = app.test_client()
    codes = [client.get("/v1/accounts?external_ref=x", headers=headers).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    limited = client.get("/v1/accounts?external_ref=x", headers=headers)
    assert limited.get_json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


def test_openapi_document_is_generated_from_the_schemas(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/v1/registrations", "/v1/accounts/{pseudonym}", "/v1/accounts/{pseudonym}/personal-data"} <= set(
        spec["paths"])
    registration_schema = spec["components"]["schemas"]["Registration"]
    assert {"real_name", "id_document", "consent"} <= set(registration_schema["required"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    page = client.get("/docs")
    assert page.status_code == 200 and 'id="swagger-ui"' in page.get_data(as_text=True)  # renders /openapi.json


def test_health_and_readiness(client):
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.mimetype == "application/json"
    assert alive.get_json() == {"status": "ok"} and alive.headers["Cache-Control"] == "no-store"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok", "schema": "ok",
                                                                       "keys": "ok"}


def test_metrics_count_requests_by_route_template(client, auth):
    client.post("/v1/registrations", json=registration("11010519491231002X"), headers=auth)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'route="/v1/registrations"' in text
    assert "identity_registrations_total" in text
    assert "11010519491231002X" not in text and "psn_" not in text


@pytest.mark.budget
def test_a_known_key_is_not_hashed_again_when_another_key_is_revoked(app, client, platforms, platform, monkeypatch):
    from identity.cli.command_boundary import keyring
    from identity.services import platforms as platform_service

    headers = platforms.headers(platform)
    doomed = platforms.key(platform)
    assert client.get("/v1/accounts?external_ref=x", headers=headers).status_code == 200
    hasher = app.extensions["identity"].hasher
    calls = []
    original = hasher.verify
    monkeypatch.setattr(hasher, "verify", lambda *a: calls.append(1) or original(*a))
    with app.app_context():
        platform_service.revoke_api_key(app.extensions["sqlalchemy"].session(), keyring(),
                                        "key_" + doomed.split("_")[1])
        app.extensions["sqlalchemy"].session.commit()
    assert client.get("/v1/accounts?external_ref=x", headers=headers).status_code == 200
    assert calls == []


def test_expired_idempotency_records_are_cleared_as_new_ones_are_kept(app, client, auth):
    from datetime import timedelta

    from sqlalchemy import update

    from identity.clock import utc_now
    from identity.models import IdempotencyRecord

    assert client.post("/v1/registrations", json=registration(), headers={**auth, "Idempotency-Key": "old"}
                       ).status_code == 201
    with app.app_context():
        db.session.execute(update(IdempotencyRecord).values(expires_at=utc_now() - timedelta(hours=1)))
        db.session.commit()
    assert client.post("/v1/registrations", json=registration(sequence=5),
                       headers={**auth, "Idempotency-Key": "new"}).status_code == 201
    with app.app_context():
        assert db.session.scalars(select(IdempotencyRecord.key)).all() == ["new"]
