"""Start-up: settings, the generated development key, and a schema that is behind."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from identity import create_app
from identity.crypto.root_keys import generate_root_key_file, load_root_keys
from identity.errors import KeyringError
from identity.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


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


# -- the root key: generated only for the embedded SQLite default ------------------------------

UNREACHABLE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/identity"


@pytest.mark.parametrize("database_url", [UNREACHABLE_POSTGRES, "sqlite:///{tmp}/elsewhere.sqlite3"])
def test_without_a_root_key_file_any_other_database_stops_start_up(tmp_path, database_url):
    instance = tmp_path / "instance"
    settings = Settings.from_env({"IDENTITY_INSTANCE_PATH": str(instance),
                                  "IDENTITY_DATABASE_URL": database_url.format(tmp=tmp_path)})
    with pytest.raises(SettingsError, match="IDENTITY_ROOT_KEY_FILE is not set") as refused:
        create_app(settings)
    assert "\n" not in str(refused.value)
    assert not (instance / "root.keys").exists()


def test_a_root_key_file_open_to_others_is_refused_naming_the_file_and_the_fix(tmp_path):
    key_file = tmp_path / "root.keys"
    generate_root_key_file(key_file)
    key_file.chmod(0o644)
    settings = Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path / "instance"),
                                  "IDENTITY_ROOT_KEY_FILE": str(key_file)})
    with pytest.raises(KeyringError, match=f"root key file {key_file} .*chmod 600 {key_file}"):
        create_app(settings)


def test_a_generated_root_key_file_is_private_and_complete(tmp_path):
    create_app(Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path)}))
    key_file = tmp_path / "root.keys"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    generated = load_root_keys(key_file)
    assert len(generated.keys) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".root.keys")] == []  # no temp file left
    # A second start loads the same key rather than making another.
    create_app(Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path)}))
    assert load_root_keys(key_file) == generated


def test_gunicorn_stops_at_start_up_with_one_line_when_the_root_key_file_is_missing(tmp_path):
    env = {**os.environ, "IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_DATABASE_URL": UNREACHABLE_POSTGRES,
           "IDENTITY_BIND": "127.0.0.1:0", "IDENTITY_WORKERS": "1"}
    env.pop("IDENTITY_ROOT_KEY_FILE", None)
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "identity:create_app()"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "IDENTITY_ROOT_KEY_FILE" in errors[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "root.keys").exists()
