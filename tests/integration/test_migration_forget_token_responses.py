"""Upgrading forgets token answers that an earlier version kept for Idempotency-Key replays,
and keeps replaying the other remembered responses."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import flask_migrate
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import select, update

from identity.clock import utc_now
from identity.extensions import db
from identity.models import IdempotencyRecord
from identity.schema_state import MIGRATIONS_DIR
from tests.support.people import registration

ISSUED = {"token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJwc25fMSJ9.c2ln", "token_type": "Bearer",
          "expires_at": "2026-12-01T10:15:00Z", "jti": "abc"}
INTROSPECTED = {"active": True, "sub": "psn_1", "aud": "plt_1", "exp": 1, "iat": 0, "jti": "abc", "rnv": True,
                "lvl": "document_checked", "adult": True, "scope": "post"}


def _revision_before_0005() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    down = ScriptDirectory.from_config(config).get_revision("0005").down_revision
    assert isinstance(down, str)
    return down


def test_upgrading_deletes_stored_token_answers_and_keeps_replaying_the_rest(app, client, auth, platform, runner):
    body = registration()
    headers = {**auth, "Idempotency-Key": "reg-before-upgrade"}
    first = client.post("/v1/registrations", json=body, headers=headers)
    assert first.status_code == 201
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    unkeyed = hashlib.sha256(b"POST\x00/v1/registrations\x00" + canonical).digest()
    later = utc_now() + timedelta(hours=12)
    with app.app_context():
        flask_migrate.downgrade(directory=str(MIGRATIONS_DIR), revision=_revision_before_0005())
        # As the previous version left them: an unkeyed fingerprint, and token answers in clear.
        db.session.execute(update(IdempotencyRecord).values(request_hash=unkeyed))
        for key, status, answer in (("issue", 201, ISSUED), ("introspect", 200, INTROSPECTED), ("revoke", 200, {})):
            db.session.add(IdempotencyRecord(platform_id=platform, key=key, request_hash=b"\0" * 32,
                                             status_code=status, body=json.dumps(answer), expires_at=later))
        db.session.add(IdempotencyRecord(platform_id=platform, key="expired", request_hash=b"\0" * 32,
                                         status_code=201, body=first.get_data(as_text=True),
                                         expires_at=utc_now() - timedelta(minutes=1)))
        db.session.commit()

    result = runner.invoke(args=["admin", "db", "upgrade"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        kept = db.session.execute(select(IdempotencyRecord.key, IdempotencyRecord.body)).all()
        db.session.rollback()
    assert [key for key, _ in kept] == ["reg-before-upgrade"]
    assert all(ISSUED["token"] not in stored for _, stored in kept)
    again = client.post("/v1/registrations", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    other = client.post("/v1/registrations", json=registration(sequence=4), headers=headers)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
