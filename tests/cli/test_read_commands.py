"""The admin CLI's read-only commands (`platforms show`, `api-keys list`, `db current`, `check`) and
the confirmation `platforms disable` asks for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from identity.crypto.root_keys import generate_root_key_file
from identity.extensions import db
from identity.models import AuditEvent, Platform

IDENTITY_ADMIN = str(Path(sys.executable).parent / "identity-admin")


def admin(runner, *args, **kwargs):
    return runner.invoke(args=["admin", *args], **kwargs)


def as_json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_platforms_show_prints_the_platform_and_the_policy_that_applies(runner, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"min_age": 16, "phone": "optional"}))
    created = as_json(admin(runner, "platforms", "create", "Forum", "--policy", str(policy), "--json"))
    as_json(admin(runner, "api-keys", "issue", created["id"], "--scopes", "accounts:read", "--json"))
    shown = as_json(admin(runner, "platforms", "show", created["id"], "--json"))
    assert shown["id"] == created["id"] and shown["name"] == "Forum" and shown["status"] == "active"
    assert shown["policy"]["min_age"] == 16 and shown["policy"]["phone"] == "optional"
    # defaults the platform did not choose are shown with the value that applies
    assert shown["policy"]["max_accounts_per_person"] == 1 and shown["policy"]["mismatch_limit"] == "100 per hour"
    assert shown["api_keys"] == {"active": 1, "revoked": 0} and shown["disabled_at"] is None
    text = admin(runner, "platforms", "show", created["id"])
    assert text.exit_code == 0 and "min_age: 16" in text.output and "1 active" in text.output


def test_platforms_show_of_an_unknown_platform_is_one_line(runner):
    result = admin(runner, "platforms", "show", "plt_nope")
    assert result.exit_code == 1 and result.output.strip() == "error: no platform plt_nope"
    error = json.loads(admin(runner, "platforms", "show", "plt_nope", "--json").output)["error"]
    assert error == {"code": "command_failed", "message": "no platform plt_nope"}


def test_api_keys_list_shows_ids_scopes_and_dates_but_never_the_secret(app, runner, platform):
    first = as_json(admin(runner, "api-keys", "issue", platform, "--scopes", "tokens:issue,accounts:read", "--json"))
    second = as_json(admin(runner, "api-keys", "issue", platform, "--scopes", "registrations:write", "--json"))
    as_json(admin(runner, "api-keys", "revoke", first["key_id"], "--json"))
    before = audit_count(app)
    listed = as_json(admin(runner, "api-keys", "list", platform, "--json"))
    assert listed["platform_id"] == platform
    assert [k["key_id"] for k in listed["keys"]] == [first["key_id"], second["key_id"]]
    one, two = listed["keys"]
    assert one["scopes"] == ["accounts:read", "tokens:issue"] and one["state"] == "revoked" and one["revoked_at"]
    assert two["scopes"] == ["registrations:write"] and two["state"] == "active" and two["revoked_at"] is None
    assert all(k["created_at"].endswith("Z") for k in listed["keys"])
    text = admin(runner, "api-keys", "list", platform)
    for output in (json.dumps(listed), text.output):
        for issued in (first, second):
            secret = issued["api_key"].rsplit("_", 1)[-1]
            assert issued["api_key"] not in output and secret not in output
        assert "argon2" not in output
    assert first["key_id"] in text.output and "revoked" in text.output
    assert audit_count(app) == before  # reading writes nothing


def test_api_keys_list_of_an_unknown_platform_fails(runner):
    result = admin(runner, "api-keys", "list", "plt_nope")
    assert result.exit_code == 1 and "plt_nope" in result.output


def test_db_current_names_the_revision_and_whether_it_is_the_head(runner):
    body = as_json(admin(runner, "db", "current", "--json"))
    assert body["revision"] == body["head"] and body["is_head"] is True
    text = admin(runner, "db", "current")
    assert text.exit_code == 0 and body["revision"] in text.output and "current" in text.output


def identity_admin(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")}
    return subprocess.run([IDENTITY_ADMIN, *args], env={**clean, **env}, capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_db_current_on_an_empty_database_says_it_is_behind(tmp_path):
    key = tmp_path / "root.keys"
    generate_root_key_file(key)
    env = {"IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
           "IDENTITY_ROOT_KEY_FILE": str(key)}
    done = identity_admin(env, "db", "current", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["revision"] is None and body["head"] and body["is_head"] is False
    assert "identity-admin db upgrade" in identity_admin(env, "db", "current").stdout


def test_disable_needs_yes_when_not_on_a_terminal(app, runner, platform):
    refused = admin(runner, "platforms", "disable", platform)
    assert refused.exit_code == 1 and "--yes" in refused.output
    with app.app_context():
        assert db.session.get(Platform, platform).status == "active"
    assert as_json(admin(runner, "platforms", "disable", platform, "--yes", "--json"))["status"] == "disabled"


def test_disable_asks_on_a_terminal_and_no_keeps_the_platform(app, runner, platform, monkeypatch):
    monkeypatch.setattr("identity.cli.confirmation.on_terminal", lambda: True)
    declined = admin(runner, "platforms", "disable", platform, input="n\n")
    assert declined.exit_code == 1 and "Disable platform" in declined.output and "not confirmed" in declined.output
    with app.app_context():
        assert db.session.get(Platform, platform).status == "active"
    accepted = admin(runner, "platforms", "disable", platform, input="y\n")
    assert accepted.exit_code == 0 and f"disabled platform {platform}" in accepted.output


# -- check: runs without the app, like the server's start-up -----------------------------------

@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    key = tmp_path / "keys" / "root.keys"
    generate_root_key_file(key)
    # Made-up passwords, which check must hide.
    return {"IDENTITY_INSTANCE_PATH": str(tmp_path / "instance"),
            "IDENTITY_DATABASE_URL": "postgresql://app:s3cret-pw@db.example/identity",  # pragma: allowlist secret
            "IDENTITY_REDIS_URL": "redis://:redis-pw@cache.example:6379/0",  # pragma: allowlist secret
            "IDENTITY_ROOT_KEY_FILE": str(key), "IDENTITY_RATE_LIMIT": "50 per second"}


def test_check_prints_every_setting_as_read_with_passwords_redacted(env):
    done = identity_admin(env, "check", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    settings = body["settings"]
    assert body["ok"] is True and body["version"]
    assert settings["database_url"] == "postgresql://app:***@db.example/identity"
    assert settings["redis_url"] == "redis://:***@cache.example:6379/0"
    assert settings["rate_limit"] == "50 per second" and settings["log_format"] == "text"
    assert settings["verifier"] == "offline" and settings["issuer"] == "http://localhost:8000"
    assert body["root_keys"] == {"file": env["IDENTITY_ROOT_KEY_FILE"], "keys": 1, "would_generate": False}
    text = identity_admin(env, "check")
    assert text.returncode == 0 and "configuration OK" in text.stdout and "rate_limit" in text.stdout
    for output in (done.stdout + done.stderr, text.stdout + text.stderr):
        assert "s3cret-pw" not in output and "redis-pw" not in output


@pytest.mark.parametrize(("variable", "value", "reason"), [
    ("IDENTITY_RATE_LIMIT", "lots", "IDENTITY_RATE_LIMIT"),
    ("IDENTITY_LOG_FORMAT", "xml", "IDENTITY_LOG_FORMAT must be one of text, json"),
    ("IDENTITY_VERIFIER", "http", "IDENTITY_VERIFIER=http needs IDENTITY_VERIFIER_URL"),
    ("IDENTITY_TIMEOUT", "soon", "IDENTITY_TIMEOUT must be a whole number"),
])
def test_check_stops_at_a_bad_setting_with_one_line_naming_it(env, variable, value, reason):
    done = identity_admin({**env, variable: value}, "check")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0]
    as_json_failure = identity_admin({**env, variable: value}, "check", "--json")
    assert as_json_failure.returncode == 1
    assert json.loads(as_json_failure.stdout)["error"]["code"] == "configuration_invalid"


def test_check_applies_the_root_key_rules_of_start_up(env, tmp_path):
    key = Path(env["IDENTITY_ROOT_KEY_FILE"])
    key.chmod(0o644)
    done = identity_admin(env, "check")
    assert done.returncode == 1 and "open to group or others" in done.stderr
    assert json.loads(identity_admin(env, "check", "--json").stdout)["error"]["code"] == "keys_unavailable"
    # no key file with a database other than the embedded SQLite: the server would refuse to start
    missing = {k: v for k, v in env.items() if k != "IDENTITY_ROOT_KEY_FILE"}
    done = identity_admin(missing, "check")
    assert done.returncode == 1 and "IDENTITY_ROOT_KEY_FILE is not set" in done.stderr


def test_check_with_the_embedded_defaults_generates_nothing(tmp_path):
    instance = tmp_path / "instance"
    done = identity_admin({"IDENTITY_INSTANCE_PATH": str(instance)}, "check", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["root_keys"]["would_generate"] is True
    assert not instance.exists() or list(instance.iterdir()) == []  # no key, no database file
