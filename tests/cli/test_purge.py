"""`identity-admin purge` removes what has outlived its use, and only that, with an audit event per batch."""

from __future__ import annotations

import json

from tests.support.lawful import admin, audit_events, ok
from tests.support.people import register, registration


def test_expired_idempotency_records_and_revoked_token_ids_go_and_live_ones_stay(app, client, runner, auth, clock):
    pseudonym = register(client, auth, sequence=1)
    first = client.post("/v1/registrations", json=registration(sequence=2), headers={**auth, "Idempotency-Key": "a"})
    token = client.post("/v1/tokens", json={"pseudonym": pseudonym, "ttl_seconds": 60}, headers=auth).get_json()
    assert client.post("/v1/tokens/revoke", json={"token": token["token"]}, headers=auth).status_code == 200

    nothing = ok(admin(runner, "purge", "--json"))["purged"]
    assert (nothing["idempotency_records"], nothing["revoked_tokens"]) == (0, 0)
    replay = client.post("/v1/registrations", json=registration(sequence=2), headers={**auth, "Idempotency-Key": "a"})
    assert replay.get_json() == first.get_json()  # still within its 24 hours: kept

    clock.advance(hours=25)
    done = ok(admin(runner, "purge", "--json"))["purged"]
    assert (done["idempotency_records"], done["revoked_tokens"]) == (1, 1)
    batches = {e.subject: json.loads(e.details) for e in audit_events(app) if e.action == "purge.batch"}
    assert batches["idempotency_records"] == {"removed": 1} and batches["revoked_tokens"] == {"removed": 1}
    completed = [json.loads(e.details) for e in audit_events(app) if e.action == "purge.completed"]
    assert completed[-1]["idempotency_records"] == 1
    # Run again: nothing left, and saying so is audited too.
    assert set(ok(admin(runner, "purge", "--json"))["purged"].values()) == {0}
    assert len([e for e in audit_events(app) if e.action == "purge.completed"]) == 3
    assert ok(admin(runner, "audit", "verify", "--json"))["ok"] is True


def test_verification_sessions_go_30_days_after_they_end_and_pending_ones_stay(app, client, runner, platforms, clock):
    from tests.support.verification import create_session, page_path, page_policy

    platform = platforms.create("page-forum", **page_policy())
    headers = platforms.headers(platform)
    canceled = create_session(client, headers)
    client.post(f"/v1/verification-sessions/{canceled['id']}/cancel", headers=headers)
    clock.advance(days=29)
    fresh = create_session(client, headers)
    assert ok(admin(runner, "purge", "--json"))["purged"]["verification_sessions"] == 0
    clock.advance(days=1, minutes=1)
    assert ok(admin(runner, "purge", "--json"))["purged"]["verification_sessions"] == 1
    assert client.get(f"/v1/verification-sessions/{canceled['id']}", headers=headers).status_code == 404
    assert client.get(f"/v1/verification-sessions/{fresh['id']}", headers=headers).get_json()["status"] == "expired"
    assert client.get(page_path(fresh)).status_code == 410  # expired, kept until its own 30 days pass
    batches = [json.loads(e.details) for e in audit_events(app)
               if e.action == "purge.batch" and e.subject == "verification_sessions"]
    assert batches == [{"removed": 1}]
