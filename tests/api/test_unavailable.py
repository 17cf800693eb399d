"""A database that cannot be used answers 503 `service_unavailable` with Retry-After, never 500;
/readyz names the check that fails."""

from __future__ import annotations

import base64
import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import make_settings
from tests.support.people import registration
from tests.support.serving import running_app

UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/identity"


def assert_service_unavailable(response) -> dict:
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert body["code"] == "service_unavailable" and body["status"] == 503
    return body


def assert_every_route_unavailable(client) -> None:
    headers = {"Authorization": "Bearer idk_key_0123456789abcdefghjkmnpqrs_secret"}
    assert_service_unavailable(client.get("/v1/accounts?external_ref=x", headers=headers))
    assert_service_unavailable(client.post("/v1/registrations", json=registration(), headers=headers))
    assert_service_unavailable(client.post("/v1/tokens/introspect", json={"token": "x"}, headers=headers))
    ready = assert_service_unavailable(client.get("/readyz"))
    assert ready["failed_check"] == "database" and ready["checks"]["database"] == "failed"
    assert "database" in ready["detail"]
    assert client.get("/healthz").status_code == 200  # the process itself is alive


@pytest.mark.parametrize("where", ["postgres", "sqlite"])
def test_a_database_that_cannot_be_reached_answers_503_with_retry_after(tmp_path, root_key_file, where):
    if where == "postgres":
        url = UNREACHABLE_POSTGRES
    else:  # a database file that cannot be opened: its folder is a plain file
        (tmp_path / "volume").write_text("not a folder")
        url = f"sqlite:///{tmp_path / 'volume' / 'identity.sqlite3'}"
    with running_app(make_settings(tmp_path / "instance", url, root_key_file)) as app:
        assert_every_route_unavailable(app.test_client())


@pytest.mark.skipif(not os.environ.get("IDENTITY_TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_a_database_that_goes_away_under_a_running_server_answers_503(client, auth, database_url):
    assert client.post("/v1/registrations", json=registration(), headers=auth).status_code == 201
    name = make_url(database_url).database
    admin = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        response = client.post("/v1/registrations", json=registration(sequence=2), headers=auth)
        assert_service_unavailable(response)
        assert client.get("/readyz").get_json()["failed_check"] == "database"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()
    assert client.post("/v1/registrations", json=registration(sequence=2), headers=auth).status_code == 201


def test_a_root_key_file_that_no_longer_opens_the_keyring_fails_the_keys_check(tmp_path, database_url,
                                                                                root_key_file):
    root_key_file.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")  # another key, still 0600
    with running_app(make_settings(tmp_path / "instance", database_url, root_key_file)) as app:
        response = app.test_client().get("/readyz")
    body = assert_service_unavailable(response)
    assert body["failed_check"] == "keys"
    assert body["checks"] == {"database": "ok", "schema": "ok", "keys": "failed"}
    assert "keys" in body["detail"] and "IDENTITY_ROOT_KEY_FILE" in body["detail"]


def test_readyz_is_ready_with_every_check_named(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "schema": "ok", "keys": "ok"}


def test_the_openapi_document_names_the_readiness_checks(client):
    readyz = client.get("/openapi.json").get_json()["paths"]["/readyz"]["get"]["responses"]
    not_ready = readyz["503"]
    assert "Retry-After" in not_ready["headers"]
    failed_check = not_ready["content"]["application/problem+json"]["schema"]["allOf"][1]["properties"]["failed_check"]
    assert failed_check["enum"] == ["database", "schema", "keys"]


def test_a_schema_that_is_behind_answers_503_naming_the_upgrade(tmp_path, root_key_file):
    url = f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}"
    with running_app(make_settings(tmp_path / "instance", url, root_key_file)) as app:
        client = app.test_client()
        body = assert_service_unavailable(client.get("/v1/accounts?external_ref=x",
                                                     headers={"Authorization": "Bearer x"}))
        assert "identity-admin db upgrade" in body["detail"]
        ready = assert_service_unavailable(client.get("/readyz"))
    assert ready["failed_check"] == "schema" and "identity-admin db upgrade" in ready["detail"]
    assert ready["checks"] == {"database": "ok", "schema": "failed", "keys": "not checked"}
