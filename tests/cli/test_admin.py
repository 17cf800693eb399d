"""The admin CLI: onboarding, keys, audit verification, --json, one-line failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import select, update

from identity.extensions import db
from identity.models import ApiKey, AuditEvent
from tests.support.people import registration


def admin(runner, *args):
    return runner.invoke(args=["admin", *args])


def as_json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_onboard_a_platform_and_use_its_key(runner, client, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"min_age": 18, "max_accounts_per_person": 1, "phone": "optional"}))
    created = as_json(admin(runner, "platforms", "create", "Example Forum", "--policy", str(policy), "--json"))
    assert created["id"].startswith("plt_") and created["name"] == "Example Forum"
    # The file's keys, and every other key at its default (e.g. the group keys: tests/cli/test_group_policy.py).
    assert created["policy"].items() >= {"min_age": 18, "max_accounts_per_person": 1, "phone": "optional"}.items()
    issued = as_json(admin(runner, "api-keys", "issue", created["id"], "--scopes",
                           "registrations:write,accounts:read", "--json"))
    assert issued["key_id"].startswith("key_") and issued["scopes"] == ["registrations:write", "accounts:read"]
    headers = {"Authorization": f"Bearer {issued['api_key']}"}
    assert client.post("/v1/registrations", json=registration(), headers=headers).status_code == 201
    listed = as_json(admin(runner, "platforms", "list", "--json"))
    assert [p["id"] for p in listed["platforms"]] == [created["id"]]


def test_only_the_hash_of_a_key_is_stored(app, runner, platform):
    issued = as_json(admin(runner, "api-keys", "issue", platform, "--scopes", "accounts:read", "--json"))
    secret = issued["api_key"].rsplit("_", 1)[1]
    with app.app_context():
        row = db.session.get(ApiKey, issued["key_id"])
        assert row.secret_hash.startswith("$argon2id$") and secret not in row.secret_hash


def test_human_output_prints_the_key_once_with_a_warning(runner, platform):
    result = admin(runner, "api-keys", "issue", platform, "--scopes", "accounts:read")
    assert result.exit_code == 0 and "idk_" in result.output and "shown once" in result.output


def test_failures_are_one_line_and_non_zero(runner, platform):
    for args in (["api-keys", "issue", platform, "--scopes", "root:all"],
                 ["api-keys", "issue", "plt_nope", "--scopes", "accounts:read"],
                 ["api-keys", "revoke", "key_nope"],
                 ["platforms", "disable", "plt_nope"]):
        result = admin(runner, *args)
        assert result.exit_code == 1, args
        assert result.output.strip().count("\n") == 0 and result.output.startswith("error: ")
    as_json_failure = admin(runner, "platforms", "disable", "plt_nope", "--json")
    assert as_json_failure.exit_code == 1 and "error" in json.loads(as_json_failure.output)


def test_a_bad_policy_file_is_refused(runner, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"phone": "sometimes", "shoe_size": 42}))
    result = admin(runner, "platforms", "create", "Forum", "--policy", str(policy))
    assert result.exit_code == 1 and "invalid policy" in result.output


def test_duplicate_platform_names_are_refused(runner):
    assert admin(runner, "platforms", "create", "Same").exit_code == 0
    result = admin(runner, "platforms", "create", "Same")
    assert result.exit_code == 1 and "already exists" in result.output


def test_every_command_is_audited(app, runner, platform):
    issued = as_json(admin(runner, "api-keys", "issue", platform, "--scopes", "accounts:read", "--json"))
    admin(runner, "api-keys", "revoke", issued["key_id"])
    admin(runner, "platforms", "disable", platform, "--yes")
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions[-3:] == ["api_key.issued", "api_key.revoked", "platform.disabled"]


def test_audit_verify_passes_on_an_intact_chain(runner, client, auth):
    client.post("/v1/registrations", json=registration(), headers=auth)
    result = as_json(admin(runner, "audit", "verify", "--json"))
    assert result["ok"] is True and result["events"] >= 4 and result["failures"] == []


def test_audit_verify_catches_an_edited_event(app, runner, client, auth):
    client.post("/v1/registrations", json=registration(), headers=auth)
    with app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.action == "account.registered")
                           .values(details='{"platform":"plt_someone_else"}'))
        db.session.commit()
    result = admin(runner, "audit", "verify")
    assert result.exit_code == 1 and "altered" in result.output


def test_audit_verify_catches_a_deleted_event(app, runner, client, auth):
    client.post("/v1/registrations", json=registration(), headers=auth)
    with app.app_context():
        db.session.execute(AuditEvent.__table__.delete().where(AuditEvent.seq == 2))
        db.session.commit()
    result = admin(runner, "audit", "verify", "--json")
    assert result.exit_code == 1
    assert any("missing" in f for f in json.loads(result.output)["failures"])


def test_rechaining_without_the_audit_key_is_detected(app, runner, client, auth):
    """Someone with database access alone rewrites an event and recomputes an unkeyed hash: caught."""
    import hashlib

    client.post("/v1/registrations", json=registration(), headers=auth)
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        event.details = "{}"
        event.mac = hashlib.sha256(event.prev_mac + b"{}").digest()
        db.session.commit()
    assert admin(runner, "audit", "verify").exit_code == 1


def test_identity_admin_console_script_runs_with_the_server_configuration(settings, platform):
    env = {**os.environ, "IDENTITY_DATABASE_URL": settings.database_url,
           "IDENTITY_ROOT_KEY_FILE": str(settings.root_key_file),
           "IDENTITY_INSTANCE_PATH": str(settings.instance_path)}
    done = subprocess.run([sys.executable, "-c", "from identity.cli import main; main()", "platforms", "list",
                           "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [p["id"] for p in json.loads(done.stdout)["platforms"]] == [platform]


def test_flask_admin_group_is_the_same_cli(settings):
    env = {**os.environ, "IDENTITY_DATABASE_URL": settings.database_url,
           "IDENTITY_ROOT_KEY_FILE": str(settings.root_key_file),
           "IDENTITY_INSTANCE_PATH": str(settings.instance_path)}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "identity", "admin", "db", "upgrade", "--json"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["revision"] == json.loads(done.stdout)["previous_revision"]
