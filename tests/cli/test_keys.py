"""`identity-admin keys …` in one process: status, rotations, verification, retirement, the lock."""

from __future__ import annotations

import base64
import os
import socket
import stat
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from identity import create_app
from identity.clock import utc_now
from identity.crypto.root_keys import load_root_keys
from identity.errors import KeyringError
from identity.models import AuditEvent, KeyVersion, MaintenanceLock, Person, RotationJob
from identity.services import audit, vault
from tests.support.people import registration
from tests.support.rotation import keys, keys_json, rows, seed, versions
from tests.support.seeding import NAMES, document_for


def _open_all(app) -> int:
    """Open every person that holds data through the vault, as the API would; returns how many."""
    from identity.cli.command_boundary import keyring
    from identity.extensions import db

    with app.app_context():
        ring = keyring()
        people = db.session.scalars(select(Person).where(Person.dek_wrapped.is_not(None))).all()
        for person in people:
            if person.state == "active":
                vault.open_identity(ring, person)
            else:
                vault.open_document(ring, person)
        db.session.rollback()
        return len(people)


def test_status_json_lists_every_key_with_its_state_and_records(app, runner):
    seed(app, 30, trace_every=5, erased_every=10)
    code, body = keys_json(runner, "status")
    assert code == 0
    assert list(body) == ["keys"]
    assert all(set(entry) == {"kind", "version", "state", "records"} for entry in body["keys"])
    by_kind = {(k["kind"], k["version"]): k for k in body["keys"]}
    assert set(by_kind) == {("data", 1), ("index", 1), ("signing", 1), ("audit", 1)}
    assert all(k["state"] == "primary" for k in body["keys"])
    held = 30 - 3  # three of the thirty are erased and hold nothing
    assert by_kind[("data", 1)]["records"] == held
    assert by_kind[("index", 1)]["records"] == held
    assert by_kind[("signing", 1)]["records"] == 0  # tokens are not stored
    events = rows(app, select(func.count()).select_from(AuditEvent))[0][0]
    assert by_kind[("audit", 1)]["records"] == events


def test_rotate_data_rewraps_every_dek_and_leaves_the_sealed_fields_alone(app, runner):
    seed(app, 40, trace_every=4, erased_every=10)
    before = {r.id: (r.name_ct, r.document_ct, r.phone_ct, r.doc_index) for r in
              rows(app, select(Person.id, Person.name_ct, Person.document_ct, Person.phone_ct, Person.doc_index))}
    code, body = keys_json(runner, "rotate", "data", "--batch-size", "7")
    assert code == 0, body
    assert body["version"] == 2 and body["processed"] == body["total"] == 36 and body["failed"] == 0
    assert versions(app, Person.dek_version) == {2: 36, None: 4}
    after = {r.id: (r.name_ct, r.document_ct, r.phone_ct, r.doc_index) for r in
             rows(app, select(Person.id, Person.name_ct, Person.document_ct, Person.phone_ct, Person.doc_index))}
    assert after == before
    assert _open_all(app) == 36
    states = {(r.kind, r.version): r.state for r in rows(app, select(KeyVersion.kind, KeyVersion.version,
                                                                        KeyVersion.state))}
    assert states[("data", 1)] == "active" and states[("data", 2)] == "primary"


def test_rotate_index_recomputes_every_index_including_sanction_traces(app, runner, client, auth):
    seed(app, 40, trace_every=4, erased_every=10)
    code, body = keys_json(runner, "rotate", "index", "--batch-size", "9")
    assert code == 0 and body["processed"] == 36
    assert versions(app, Person.doc_index_version) == {2: 36, None: 4}
    code, report = keys_json(runner, "verify")
    assert code == 0 and report["indexes"] == 36
    # A seeded person is found again by their document under the new index key alone.
    from identity.cli.command_boundary import keyring
    from identity.extensions import db
    from identity.services.registration import find_person

    with app.app_context():
        ring = keyring()
        assert ring.primary("index")[0] == 2
        trace = find_person(db.session(), ring, document_for(3))  # n=3 is a sanction trace
        assert trace is not None and trace.state == "sanction_trace" and trace.doc_index_version == 2
        db.session.rollback()


def test_new_registrations_use_the_new_keys_from_the_moment_they_are_primary(app, runner, client, auth):
    first = client.post("/v1/registrations", json=registration(sequence=1), headers=auth)
    assert first.status_code == 201
    assert keys(runner, "rotate", "data").exit_code == 0
    assert keys(runner, "rotate", "index").exit_code == 0
    second = client.post("/v1/registrations", json=registration(sequence=2), headers=auth)
    assert second.status_code == 201
    assert versions(app, Person.dek_version) == {2: 2}
    assert versions(app, Person.doc_index_version) == {2: 2}
    assert client.get(first.headers["Location"], headers=auth).status_code == 200
    again = client.post("/v1/registrations", json=registration(sequence=1), headers=auth)
    assert again.status_code == 409 and again.get_json()["code"] == "duplicate_identity"


def test_running_a_finished_rotation_again_starts_a_new_one(app, runner):
    seed(app, 5)
    assert keys_json(runner, "rotate", "data")[1]["version"] == 2
    code, body = keys_json(runner, "rotate", "data")
    assert code == 0 and body["version"] == 3 and body["resumed"] is False
    assert [r.state for r in rows(app, select(RotationJob.state).order_by(RotationJob.id))] == ["done", "done"]


def test_an_unfinished_job_is_resumed_instead_of_adding_another_key(app, runner):
    """The state a kill leaves (job running, half the rows moved): running again finishes that job."""
    seed(app, 20)
    from identity.cli.command_boundary import keyring, runtime
    from identity.extensions import db
    from identity.services.keyring import add_key_version

    with app.app_context():
        key = add_key_version(db.session(), runtime().root_keys, "data", primary=True)
        now = utc_now()
        db.session.add(RotationJob(kind="data", target_version=key.version, state="running", processed=0,
                                   total=20, failed=0, started_at=now, updated_at=now))
        ring = keyring()
        half = db.session.scalars(select(Person).order_by(Person.id).limit(10)).all()
        for person in half:
            assert person.dek_wrapped is not None
            person.dek_wrapped = vault.rewrap_dek_to(ring, person.id, person.dek_wrapped, key.version)
            person.dek_version = key.version
        db.session.commit()
    code, body = keys_json(runner, "rotate", "data")
    assert code == 0 and body["resumed"] is True and body["version"] == 2
    assert body["moved_this_run"] == 10  # the rows already on v2 are not done again
    assert versions(app, Person.dek_version) == {2: 20}
    assert len(rows(app, select(KeyVersion.id).where(KeyVersion.kind == "data"))) == 2


def test_verify_names_a_tampered_record_by_id_and_never_its_contents(app, runner):
    seed(app, 12)
    people = rows(app, select(Person.id, Person.name_ct, Person.doc_index).order_by(Person.id))
    broken_name, broken_index = people[3], people[7]
    from identity.extensions import db

    with app.app_context():
        flipped = bytearray(broken_name.name_ct)
        flipped[-1] ^= 1
        db.session.execute(update(Person).where(Person.id == broken_name.id).values(name_ct=bytes(flipped)))
        db.session.execute(update(Person).where(Person.id == broken_index.id).values(doc_index=os.urandom(32)))
        db.session.commit()
    text_result = keys(runner, "verify")
    assert text_result.exit_code == 1
    assert str(broken_name.id) in text_result.output and str(broken_index.id) in text_result.output
    for n in range(12):
        assert document_for(n).number not in text_result.output
    assert not any(name in text_result.output for name in NAMES)
    code, body = keys_json(runner, "verify")
    assert code == 1 and body["ok"] is False and body["failed"] == 2
    problems = {f["person"]: f["problems"] for f in body["failures"]}
    assert problems[str(broken_name.id)] == ["real_name: does not decrypt"]
    assert problems[str(broken_index.id)] == ["index: differs from the document"]
    assert body["records"] == 12 and body["decrypted"] == 10


def test_a_rotation_skips_an_unreadable_record_reports_it_and_retire_keeps_its_key(app, runner):
    seed(app, 10)
    victim = rows(app, select(Person.id, Person.dek_wrapped).order_by(Person.id))[4]
    from identity.extensions import db

    with app.app_context():
        blob = bytearray(victim.dek_wrapped)
        blob[-1] ^= 1
        db.session.execute(update(Person).where(Person.id == victim.id).values(dek_wrapped=bytes(blob)))
        db.session.commit()
    code, body = keys_json(runner, "rotate", "data")
    assert code == 1 and body["failures"] == [str(victim.id)] and body["processed"] == 9
    refused = keys(runner, "retire", "data", "1", "--yes")
    assert refused.exit_code == 1
    assert refused.output.strip() == ("error: 1 persons still use data key v1; "
                                      "finish `identity-admin keys rotate data` first")


def test_retire_refuses_the_primary_and_keys_in_use_then_destroys_material(app, runner):
    seed(app, 6)
    primary = keys(runner, "retire", "data", "1", "--yes")
    assert primary.exit_code == 1 and "is the primary key" in primary.output
    assert len(primary.output.strip().splitlines()) == 1
    assert keys(runner, "retire", "audit", "1", "--yes").exit_code == 1
    assert keys(runner, "retire", "data", "9", "--yes").exit_code == 1
    assert keys(runner, "rotate", "data").exit_code == 0
    code, body = keys_json(runner, "retire", "data", "1", "--yes")
    assert code == 0 and body == {"kind": "data", "version": 1, "state": "retired",
                                  "retired_at": body["retired_at"]}
    row = rows(app, select(KeyVersion.state, KeyVersion.material_ct, KeyVersion.retired_at)
               .where(KeyVersion.kind == "data", KeyVersion.version == 1))[0]
    assert row.state == "retired" and row.material_ct is None and row.retired_at is not None
    assert _open_all(app) == 6  # every record is on v2: nothing needed v1
    assert keys_json(runner, "retire", "data", "1", "--yes")[0] == 0  # retiring twice is not an error
    states = {(k["kind"], k["version"]): k["state"] for k in keys_json(runner, "status")[1]["keys"]}
    assert states[("data", 1)] == "retired"


def test_retire_off_a_terminal_destroys_nothing_without_yes(app, runner):
    seed(app, 2)
    assert keys(runner, "rotate", "data").exit_code == 0
    refused = keys(runner, "retire", "data", "1")
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    code, body = keys_json(runner, "retire", "data", "1")
    assert code == 1 and "--yes" in str(body["error"])
    states = {(k["kind"], k["version"]): k["state"] for k in keys_json(runner, "status")[1]["keys"]}
    assert states[("data", 1)] == "active"


def test_a_signing_key_is_retired_only_after_its_jwks_window(app, runner):
    code, body = keys_json(runner, "rotate", "signing")
    assert code == 0 and body["version"] == 2 and body["previous"] == 1
    refused = keys(runner, "retire", "signing", "1", "--yes")
    assert refused.exit_code == 1 and "may still verify unexpired tokens until" in refused.output
    from identity.extensions import db

    with app.app_context():  # the window closes an hour and the leeway after v2 took over
        db.session.execute(update(KeyVersion).where(KeyVersion.kind == "signing", KeyVersion.version == 2)
                           .values(created_at=utc_now() - timedelta(seconds=3600 + 30 + 1)))
        db.session.commit()
    assert keys(runner, "retire", "signing", "1", "--yes").exit_code == 0


def test_root_rotation_prepends_a_key_and_the_new_line_alone_then_suffices(app, runner, settings, client, auth):
    created = client.post("/v1/registrations", json=registration(), headers=auth)
    assert created.status_code == 201
    old_lines = settings.root_key_file.read_text().splitlines()
    code, body = keys_json(runner, "rotate", "root")
    assert code == 0 and body["lines"] == 2 and body["reencrypted"] == 4 and body["resumed"] is False
    lines = settings.root_key_file.read_text().splitlines()
    assert len(lines) == 2 and lines[1:] == old_lines and lines[0] != old_lines[0]
    assert stat.S_IMODE(settings.root_key_file.stat().st_mode) == 0o600
    new_only = load_root_keys(settings.root_key_file)
    assert all(new_only.made_with_current(r.material_ct) for r in rows(app, select(KeyVersion.material_ct)))
    # The running app keeps serving (it re-reads the file when the keyring moved under a new root key).
    assert client.get(created.headers["Location"], headers=auth).status_code == 200
    assert client.post("/v1/registrations", json=registration(sequence=2), headers=auth).status_code == 201

    def fresh_app_with(line: str):
        settings.root_key_file.write_text(line + "\n")
        fresh = create_app(settings)
        with fresh.app_context():
            from identity.cli.command_boundary import keyring
            from identity.extensions import db

            try:
                ring = keyring()
                person = db.session.scalars(select(Person)).first()
                assert person is not None
                return vault.open_identity(ring, person).real_name
            finally:
                db.session.rollback()
                db.engine.dispose()

    assert fresh_app_with(lines[0]) == "张三"
    with pytest.raises(KeyringError):
        fresh_app_with(old_lines[0])
    settings.root_key_file.write_text("\n".join(lines) + "\n")
    # Running it again adds a third key (the first rotation finished).
    assert keys_json(runner, "rotate", "root")[1]["lines"] == 3


def test_a_staged_root_key_is_used_by_the_next_run_instead_of_another(app, runner, settings):
    code, staged = keys_json(runner, "rotate", "root", "--stage")
    assert code == 0 and staged["staged_only"] is True and staged["reencrypted"] == 0
    code, body = keys_json(runner, "rotate", "root")
    assert code == 0 and body["resumed"] is True and body["lines"] == 2 and body["reencrypted"] == 4
    assert body["root_key_id"] == staged["root_key_id"]
    assert keys(runner, "verify").exit_code == 0


def _hold_lock(app, owner: str, heartbeat_age: float = 0) -> None:
    from identity.extensions import db

    with app.app_context():
        now = utc_now()
        db.session.add(MaintenanceLock(name="keys", owner=owner, acquired_at=now,
                                       heartbeat_at=now - timedelta(seconds=heartbeat_age)))
        db.session.commit()


def test_a_second_rotation_refuses_while_a_live_process_holds_the_lock(app, runner):
    seed(app, 3)
    _hold_lock(app, f"{socket.gethostname()}:{os.getppid()}:0000abcd")  # a live process: pytest's parent
    for args in (("rotate", "data"), ("rotate", "signing"), ("rotate", "root"), ("retire", "data", "1", "--yes")):
        result = keys(runner, *args)
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1
        assert result.output.startswith("error: another key operation is running (holder ")
    assert versions(app, Person.dek_version) == {1: 3}
    assert len(rows(app, select(KeyVersion.id).where(KeyVersion.kind == "data"))) == 1


def test_a_dead_holders_lock_is_taken_over(app, runner):
    seed(app, 3)
    dead = 2 ** 22 + 12345  # above the default pid_max: no such process
    _hold_lock(app, f"{socket.gethostname()}:{dead}:0000abcd")
    code, body = keys_json(runner, "rotate", "data")
    assert code == 0 and body["processed"] == 3
    assert rows(app, select(MaintenanceLock.name)) == []  # released when done


def test_a_lock_with_an_old_heartbeat_from_another_host_is_taken_over(app, runner):
    _hold_lock(app, "elsewhere:1:0000abcd", heartbeat_age=10)
    assert keys(runner, "rotate", "signing").exit_code == 1
    from identity.extensions import db

    with app.app_context():
        db.session.execute(update(MaintenanceLock).values(heartbeat_at=utc_now() - timedelta(seconds=600)))
        db.session.commit()
    result = keys(runner, "rotate", "signing")
    assert result.exit_code == 0, result.output


def test_every_rotation_retirement_and_verification_is_audited_without_personal_data(app, runner):
    seed(app, 8)
    for args in (("rotate", "data"), ("rotate", "index"), ("rotate", "signing"), ("rotate", "root"),
                 ("retire", "data", "1", "--yes"), ("verify",)):
        assert keys(runner, *args).exit_code == 0, args
    events = rows(app, select(AuditEvent.action, AuditEvent.details).where(AuditEvent.action.like("keys.%"))
                  .order_by(AuditEvent.seq))
    assert [e.action for e in events] == [
        "keys.rotation_started", "keys.rotation_finished",   # data
        "keys.rotation_started", "keys.rotation_finished",   # index
        "keys.rotation_started", "keys.rotation_finished",   # signing
        "keys.rotation_started", "keys.rotation_finished",   # root
        "keys.retired", "keys.verified",
    ]
    everything = " ".join(e.details for e in events)
    person_ids = [str(r.id) for r in rows(app, select(Person.id))]
    assert not any(pid in everything for pid in person_ids)
    assert not any(name in everything for name in NAMES)
    from identity.cli.command_boundary import keyring
    from identity.extensions import db

    with app.app_context():
        assert audit.verify_chain(db.session(), keyring()).ok


def test_progress_is_a_plain_line_per_batch_when_not_on_a_terminal(app, runner):
    seed(app, 25)
    result = keys(runner, "rotate", "data", "--batch-size", "10")
    assert result.exit_code == 0
    progress = [line for line in result.stderr.splitlines() if line.startswith("rotate data v2")]
    assert len(progress) >= 3 and "\r" not in result.stderr
    assert "records/s" in progress[0] and "left" in progress[0] and "10/25 records" in progress[0]
    assert result.stdout.startswith("data key v2 is primary; rotation finished: 25 of 25 records")


def test_the_root_key_file_lines_are_base64_keys(settings, runner):
    assert keys(runner, "rotate", "root").exit_code == 0
    for line in settings.root_key_file.read_text().splitlines():
        assert len(base64.b64decode(line)) == 32
