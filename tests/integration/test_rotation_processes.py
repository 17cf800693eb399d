"""Rotations as real processes: killed with SIGKILL mid-way and run again, and beside live traffic.

Run on SQLite and, with IDENTITY_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import uuid

import pytest
from sqlalchemy import func, select

from identity.clock import utc_now
from identity.models import Account, KeyVersion, MaintenanceLock, Person, RotationJob, Sanction
from identity.services import vault
from tests.support.people import registration
from tests.support.rotation import rows, run_admin, seed, spawn_admin, versions, wait_for_progress

pytestmark = pytest.mark.slow

PEOPLE = 3000


def _kill_mid_way(settings, kind: str) -> int:
    process = spawn_admin(settings, "keys", "rotate", kind, "--batch-size", "100", "--pause", "0.02")
    processed = wait_for_progress(settings, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    return processed


@pytest.mark.parametrize(("kind", "column"), [("data", Person.dek_version), ("index", Person.doc_index_version)])
def test_a_rotation_killed_mid_way_resumes_when_run_again_and_loses_nothing(app, settings, kind, column):
    seed(app, PEOPLE, trace_every=7, erased_every=11)
    held = rows(app, select(func.count()).select_from(Person).where(Person.dek_wrapped.is_not(None)))[0][0]
    _kill_mid_way(settings, kind)

    job = rows(app, select(RotationJob.state, RotationJob.processed, RotationJob.total, RotationJob.target_version))
    assert len(job) == 1 and job[0].state == "running" and 0 < job[0].processed < job[0].total == held
    split = versions(app, column)
    assert split.get(1, 0) > 0 and split.get(2, 0) > 0  # really mid-way: rows on both keys
    assert rows(app, select(MaintenanceLock.owner))  # the dead process still "holds" the lock
    # Mid-way, every record is readable (each under the key its header names).
    assert run_admin(settings, "keys", "verify").returncode == 0

    again = run_admin(settings, "keys", "rotate", kind, "--json")
    assert again.returncode == 0, again.stderr
    body = json.loads(again.stdout)
    assert body["resumed"] is True and body["version"] == 2 and body["failed"] == 0
    assert body["processed"] == held  # every record counted once over both runs
    assert body["moved_this_run"] == held - job[0].processed
    assert versions(app, column) == {2: held, None: PEOPLE - held}
    assert len(rows(app, select(KeyVersion.id).where(KeyVersion.kind == kind))) == 2  # no third key
    assert rows(app, select(RotationJob.state)) == [("done",)]
    assert rows(app, select(MaintenanceLock.owner)) == []

    verified = run_admin(settings, "keys", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    report = json.loads(verified.stdout)
    assert report["ok"] and report["decrypted"] == held and report["indexes"] == held
    assert run_admin(settings, "keys", "retire", kind, "1", "--yes").returncode == 0


def test_a_second_rotation_refuses_while_the_first_runs(app, settings):
    seed(app, PEOPLE)
    # Slow enough (30 batches, 0.2 s apart) that the second process surely starts while it runs.
    first = spawn_admin(settings, "keys", "rotate", "data", "--batch-size", "100", "--pause", "0.2")
    try:
        wait_for_progress(settings, first)
        second = run_admin(settings, "keys", "rotate", "index")
        assert second.returncode == 1
        assert second.stderr.startswith("error: another key operation is running (holder ")
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert versions(app, Person.doc_index_version) == {1: PEOPLE}


def test_the_service_serves_registrations_and_reads_at_full_correctness_during_a_rotation(
        app, settings, client, auth):
    seed(app, PEOPLE)
    before = [client.post("/v1/registrations", json=registration(sequence=n), headers=auth) for n in (1, 2, 3)]
    assert all(r.status_code == 201 for r in before)
    for kind in ("data", "index"):
        process = spawn_admin(settings, "keys", "rotate", kind, "--batch-size", "100", "--pause", "0.03")
        try:
            wait_for_progress(settings, process)
            served = 0
            while process.poll() is None or served < 3:
                sequence = 100 + served + (0 if kind == "data" else 500)
                created = client.post("/v1/registrations", json=registration(sequence=sequence), headers=auth)
                assert created.status_code == 201, created.get_json()
                for earlier in before:
                    read = client.get(earlier.headers["Location"], headers=auth)
                    assert read.status_code == 200 and read.get_json() == earlier.get_json()
                duplicate = client.post("/v1/registrations", json=registration(sequence=2), headers=auth)
                assert duplicate.status_code == 409
                assert duplicate.get_json()["existing_pseudonyms"] == [before[1].get_json()["pseudonym"]]
                person = rows(app, select(Person.dek_version, Person.doc_index_version).join(Account)
                              .where(Account.pseudonym == created.get_json()["pseudonym"]))[0]
                # New records use the new key from the moment it is primary.
                assert (person.dek_version if kind == "data" else person.doc_index_version) == 2
                served += 1
        finally:
            out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    verified = run_admin(settings, "keys", "verify", "--json")
    assert verified.returncode == 0, verified.stdout
    assert set(versions(app, Person.dek_version)) == {2}
    assert set(versions(app, Person.doc_index_version)) == {2}


def test_duplicates_and_blacklisted_people_are_found_while_indexes_are_under_two_keys(
        app, settings, client, platforms, auth, platform):
    seed(app, PEOPLE, trace_every=5)
    _kill_mid_way(settings, "index")  # a frozen half-rotated state
    from identity.cli.command_boundary import keyring
    from identity.extensions import db

    # One active person and one sanction trace under each index key, their documents read back by the vault.
    with app.app_context():
        ring = keyring()
        picked = {}
        for version in (1, 2):
            for state in ("active", "sanction_trace"):
                person = db.session.scalars(select(Person).where(Person.doc_index_version == version,
                                                                 Person.state == state).limit(1)).one()
                document = vault.open_document(ring, person)
                name = vault.open_identity(ring, person).real_name if state == "active" else None
                picked[(version, state)] = (person.id, document.number, name)
        # The traces are blacklisted on this platform (a trace keeps a closed account to hang it on).
        now = utc_now()
        for version in (1, 2):
            person_id = picked[(version, "sanction_trace")][0]
            account = Account(pseudonym=f"psn_{uuid.uuid4().hex[:26]}", platform_id=platform, person_id=person_id,
                              slot=None, status="closed", verification_level="document_checked",
                              verification_method="offline", verified_at=now, consent_notice_version="2026-01",
                              consent_accepted_at=now, guardian_consent=False, created_at=now, closed_at=now)
            db.session.add(account)
            db.session.flush()
            db.session.add(Sanction(id=f"snc_{uuid.uuid4().hex[:26]}", platform_id=platform, person_id=person_id,
                                    account_id=account.id, kind="blacklist", reason_code="spam", scope="platform",
                                    created_at=now))
        db.session.commit()
    persons_before = rows(app, select(func.count()).select_from(Person))[0][0]

    for version in (1, 2):
        person_id, number, name = picked[(version, "active")]
        body = registration(number, name=name)
        first = client.post("/v1/registrations", json=body, headers=auth)
        assert first.status_code == 201  # attached to the existing person, found under index key v{version}
        owner = rows(app, select(Account.person_id).where(Account.pseudonym == first.get_json()["pseudonym"]))
        assert owner == [(person_id,)]
        again = client.post("/v1/registrations", json=body, headers=auth)
        assert again.status_code == 409 and again.get_json()["code"] == "duplicate_identity"

        _, trace_number, _ = picked[(version, "sanction_trace")]
        refused = client.post("/v1/registrations", json=registration(trace_number, name="王五"), headers=auth)
        assert refused.status_code == 403 and refused.get_json()["code"] == "registration_refused"
    assert rows(app, select(func.count()).select_from(Person))[0][0] == persons_before  # no one created twice

    finished = run_admin(settings, "keys", "rotate", "index")
    assert finished.returncode == 0, finished.stderr
    assert run_admin(settings, "keys", "verify").returncode == 0
