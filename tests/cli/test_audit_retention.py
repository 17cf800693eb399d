"""The audit log's end and its start: a signed checkpoint detects events deleted from the end
with the head rewound; `identity-admin purge` removes events past retention and the chain
still verifies from its oldest kept event."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text

import identity.services.audit
from identity.settings import Settings, SettingsError
from tests.support.lawful import admin, audit_events, ok
from tests.support.people import register, registration


def _sql(app, statement: str, **params) -> None:
    """What an attacker with write access to the database (and no keys) can do."""
    from identity.extensions import db

    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()


def _rewind_to(app, seq: int) -> None:
    _sql(app, "DELETE FROM audit_events WHERE seq > :seq", seq=seq)
    _sql(app, "UPDATE audit_chain_head SET seq = :seq, mac = (SELECT mac FROM audit_events WHERE seq = :seq) "
              "WHERE id = 1", seq=seq)


def _verify(runner, *args):
    result = admin(runner, "audit", "verify", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_events_deleted_from_the_end_with_the_head_rewound_are_caught_by_a_checkpoint(app, client, runner, auth,
                                                                                     tmp_path):
    for n in range(1, 4):
        register(client, auth, sequence=n)
    checkpoint = tmp_path / "checkpoint.json"
    taken = ok(admin(runner, "audit", "checkpoint", "--json"))
    checkpoint.write_text(json.dumps(taken))
    assert taken["seq"] == audit_events(app)[-1].seq and set(taken) == {"seq", "mac", "key_version", "taken_at",
                                                                          "signature"}
    assert _verify(runner, "--checkpoint", str(checkpoint))[0] == 0

    _rewind_to(app, taken["seq"] - 4)
    code, report = _verify(runner)
    assert code == 0 and report["ok"] is True  # the chain alone cannot tell
    code, report = _verify(runner, "--checkpoint", str(checkpoint))
    assert code == 1 and report["ok"] is False
    assert any("events were deleted from the end" in f for f in report["failures"])

    # Appending past the checkpoint again does not hide it: the event there is not the one signed.
    for n in range(4, 8):
        register(client, auth, sequence=n)
    code, report = _verify(runner, "--checkpoint", str(checkpoint))
    assert code == 1 and any("differs from the checkpoint" in f for f in report["failures"])


def test_a_checkpoint_altered_or_not_ours_is_refused(runner, tmp_path):
    taken = ok(admin(runner, "audit", "checkpoint", "--json"))
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**taken, "seq": taken["seq"] - 1}))
    result = admin(runner, "audit", "verify", "--checkpoint", str(forged))
    assert result.exit_code == 1 and "signature does not verify" in result.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert admin(runner, "audit", "verify", "--checkpoint", str(garbage)).exit_code == 1
    garbage.write_text(json.dumps({"seq": 1}))
    result = admin(runner, "audit", "verify", "--checkpoint", str(garbage))
    assert result.exit_code == 1 and "not one `audit checkpoint` printed" in result.output


def test_the_purge_removes_old_events_and_the_rest_still_verifies(app, client, runner, auth, clock, tmp_path):
    register(client, auth, sequence=1)
    kept_by_idempotency = client.post("/v1/registrations", json=registration(sequence=2),
                                      headers={**auth, "Idempotency-Key": "reg-2"})
    assert kept_by_idempotency.status_code == 201
    old = len(audit_events(app))
    checkpoint = tmp_path / "old-checkpoint.json"
    checkpoint.write_text(json.dumps(ok(admin(runner, "audit", "checkpoint", "--json"))))
    old += 1  # the checkpoint's own event

    clock.advance(days=200)
    register(client, auth, sequence=3)
    first = ok(admin(runner, "purge", "--json"))["purged"]
    assert first["audit_events"] == 0  # nothing is 400 days old yet
    assert first["idempotency_records"] == 1  # but the remembered response is long past its 24 hours
    clock.advance(days=201)
    recent_first = audit_events(app)[old].seq

    done = ok(admin(runner, "purge", "--batch-size", "2", "--json"))
    assert done["purged"]["audit_events"] == old and done["audit_retention_days"] == 400
    kept = audit_events(app)
    assert kept[0].seq == recent_first
    assert [e.action for e in kept if e.action.startswith("purge.")][-1] == "purge.completed"
    code, report = _verify(runner, "--checkpoint", str(checkpoint))
    assert (code, report["ok"]) == (0, True)
    again = ok(admin(runner, "purge", "--json"))
    assert again["purged"]["audit_events"] == 0

    # Deleting the oldest kept events is still seen: they do not link to the recorded base.
    _sql(app, "DELETE FROM audit_events WHERE seq = :seq", seq=recent_first)
    code, report = _verify(runner)
    assert code == 1 and any(f"event {recent_first} is missing" in f for f in report["failures"])
    # ... and moving the base forward over them is seen too: the base is signed.
    _sql(app, "UPDATE audit_chain_base SET seq = :seq, mac = (SELECT prev_mac FROM audit_events WHERE seq = :next)",
         seq=recent_first, next=recent_first + 1)
    code, report = _verify(runner)
    assert code == 1 and any("purged part of the log was altered" in f for f in report["failures"])


def test_an_interrupted_purge_resumes_and_loses_nothing(app, client, runner, auth, clock, monkeypatch):
    for n in range(1, 4):
        register(client, auth, sequence=n)
    old = len(audit_events(app))
    clock.advance(days=401)
    real_purge, calls = identity.services.audit.purge_before, []

    def killed_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_purge(*args, **kwargs)

    monkeypatch.setattr(identity.services.audit, "purge_before", killed_on_the_second_batch)
    assert admin(runner, "purge", "--batch-size", "2").exit_code != 0
    monkeypatch.setattr(identity.services.audit, "purge_before", real_purge)
    assert _verify(runner)[0] == 0  # the first batch and its base were committed together
    remaining_old = sum(1 for e in audit_events(app) if e.occurred_at < clock.now() - timedelta(days=400))
    assert remaining_old == old - 2

    assert ok(admin(runner, "purge", "--batch-size", "2", "--json"))["purged"]["audit_events"] == old - 2
    assert _verify(runner)[0] == 0
    batches = [json.loads(e.details) for e in audit_events(app) if e.subject == "audit_events"]
    assert sum(b["removed"] for b in batches) == old


@pytest.mark.parametrize("days", ["182", "30", "a year"])
def test_an_audit_retention_under_six_months_stops_start_up(days, tmp_path):
    with pytest.raises(SettingsError, match="IDENTITY_AUDIT_RETENTION_DAYS"):
        Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_AUDIT_RETENTION_DAYS": days})
    assert Settings.from_env({"IDENTITY_INSTANCE_PATH": str(tmp_path),
                              "IDENTITY_AUDIT_RETENTION_DAYS": "183"}).audit_retention_days == 183


def test_the_admin_command_refuses_a_short_audit_retention_in_one_line(tmp_path):
    env = {"PATH": "", "IDENTITY_INSTANCE_PATH": str(tmp_path), "IDENTITY_AUDIT_RETENTION_DAYS": "90"}
    done = subprocess.run([sys.executable, "-c", "from identity.cli import main; main()", "purge"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: IDENTITY_AUDIT_RETENTION_DAYS must be at least 183 (the law asks for six months of logs)"]


def test_the_purge_refuses_to_re_sign_over_a_broken_chain(app, client, runner, auth, clock):
    for n in range(1, 3):
        register(client, auth, sequence=n)
    before = len(audit_events(app))
    _sql(app, "UPDATE audit_events SET details = '{}' WHERE seq = 2")
    clock.advance(days=401)
    result = admin(runner, "purge", "--json")
    assert result.exit_code == 1
    assert "event 2 was altered" in json.loads(result.stdout)["error"]["message"]
    assert audit_events(app)[0].seq == 1  # nothing purged, so the alteration stays visible
    assert len([e for e in audit_events(app) if e.occurred_at < clock.now() - timedelta(days=400)]) == before
    code, report = _verify(runner)
    assert code == 1 and any("event 2 was altered" in f for f in report["failures"])
