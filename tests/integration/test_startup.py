"""Start-up: settings, the generated development key, and a schema that is behind."""

from __future__ import annotations

import logging

import pytest

from identity import create_app
from identity.settings import Settings, SettingsError


def test_embedded_defaults_generate_a_root_key_and_say_so_loudly(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    settings = Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path)})
    create_app(settings)
    key_file = tmp_path / "root.keys"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert "GENERATED A DEVELOPMENT ROOT KEY" in caplog.text
    assert settings.database_url == f"sqlite:///{tmp_path / 'identity.sqlite3'}"


def test_a_configured_root_key_file_that_is_missing_stops_start_up(tmp_path):
    settings = Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path),
                                  "IDENTITY_ROOT_KEY_FILE": str(tmp_path / "nowhere.keys")})
    with pytest.raises(Exception, match="does not exist"):
        create_app(settings)


@pytest.mark.parametrize("env, message", [
    ({"IDENTITY_VERIFIER": "psychic"}, "IDENTITY_VERIFIER"),
    ({"IDENTITY_VERIFIER": "http"}, "IDENTITY_VERIFIER_URL"),
    ({"IDENTITY_ISSUER": "ftp://x"}, "IDENTITY_ISSUER"),
    ({"IDENTITY_VERIFIER_TIMEOUT": "soon"}, "IDENTITY_VERIFIER_TIMEOUT"),
    ({"IDENTITY_MISMATCH_LIMIT": "lots"}, "IDENTITY_MISMATCH_LIMIT"),
    ({"IDENTITY_MISMATCH_LIMIT": "0 per hour"}, "IDENTITY_MISMATCH_LIMIT"),
])
def test_bad_settings_are_refused_naming_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_the_server_refuses_requests_on_a_schema_that_is_behind(tmp_path):
    settings = Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path)})
    client = create_app(settings).test_client()
    response = client.get("/v1/accounts?external_ref=x", headers={"Authorization": "Bearer x"})
    assert response.status_code == 503
    assert "identity-admin db upgrade" in response.get_json()["detail"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "db upgrade" in ready.get_json()["detail"]
    assert client.get("/healthz").status_code == 200
