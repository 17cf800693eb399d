"""The `Idempotency-Key` request fingerprint is keyed: the stored value cannot be recomputed
from a guessed body (a name and an ID number) without the service's keys."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from identity.extensions import db
from identity.models import IdempotencyRecord
from tests.support.people import registration


def _stored_hashes(app) -> list[bytes]:  # type: ignore[no-untyped-def]
    with app.app_context():
        hashes = list(db.session.scalars(select(IdempotencyRecord.request_hash)))
        db.session.rollback()
        return hashes


def test_the_stored_fingerprint_is_not_a_plain_hash_of_the_body(app, client, auth):
    body = registration()
    headers = {**auth, "Idempotency-Key": "reg-keyed"}
    assert client.post("/v1/registrations", json=body, headers=headers).status_code == 201
    (stored,) = _stored_hashes(app)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    guesses = {hashlib.sha256(b"POST\x00/v1/registrations\x00" + canonical).digest(),
               hashlib.sha256(canonical).digest(), hashlib.sha256(json.dumps(body).encode()).digest()}
    assert len(stored) == 32 and stored not in guesses


def test_the_keyed_fingerprint_still_replays_the_same_body_and_refuses_another(client, auth):
    headers = {**auth, "Idempotency-Key": "reg-keyed-2"}
    first = client.post("/v1/registrations", json=registration(), headers=headers)
    again = client.post("/v1/registrations", json=registration(), headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    other = client.post("/v1/registrations", json=registration(sequence=7), headers=headers)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"


def test_a_record_remembered_before_an_index_rotation_still_replays(app, client, auth, runner):
    headers = {**auth, "Idempotency-Key": "reg-rotated"}
    first = client.post("/v1/registrations", json=registration(), headers=headers)
    assert runner.invoke(args=["admin", "keys", "rotate", "index"]).exit_code == 0
    again = client.post("/v1/registrations", json=registration(), headers=headers)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    other = client.post("/v1/registrations", json=registration(sequence=8), headers=headers)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
