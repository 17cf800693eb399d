"""Erasure, tried as someone holding the database (its files on SQLite) and every key the
service holds: once a person's last account closes, nothing of them can be read back.

Contract, "Erasure": with SQLite the erased pages are overwritten before the request answers;
in any database, once the scheduled rotation (`scripts/rotate-keys`: rotate data and index,
verify, retire the old versions) has run, no remnant opens under any key the service holds.
On PostgreSQL the raw files are not reachable from a test: there every key is tried on every
blob of every table instead.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from identity.crypto.root_keys import load_root_keys
from identity.documents import normalise_document
from identity.settings import Settings
from tests.conftest import PG_URL, Platforms, make_settings, migrate
from tests.support import remnants
from tests.support.people import registration, resident_id
from tests.support.rotation import REPO, admin_env, keys_json
from tests.support.sanctions import file

NAME = "欧阳娜娜"
BIRTH = date(1988, 3, 9)
NUMBER = resident_id(region="310104", birth=BIRTH, sequence=37)
PHONE = "+8613912345678"

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="raw database files exist only with SQLite")


def _person() -> remnants.Person:
    return remnants.Person(NAME, normalise_document("cn_resident_id", NUMBER, None, today=date(2026, 1, 1)), PHONE)


def _sqlite_files(settings: Settings) -> dict[str, Path]:
    database = Path(make_url(settings.database_url).database or "")
    return {suffix or "main file": Path(f"{database}{suffix}") for suffix in ("", "-wal", "-shm", "-writer")}


def _sources(settings: Settings, *, raw_files: bool) -> tuple[dict[str, bytes], list[str]]:
    """Every blob of every table, and (SQLite) the raw files as they are on disk now."""
    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            blobs = remnants.table_blobs(conn)
            ids = remnants.person_ids(conn)
    finally:
        engine.dispose()
    sources = {f"{column} row {n}": blob for column, values in blobs.items() for n, blob in enumerate(values)}
    if raw_files:
        for label, path in _sqlite_files(settings).items():
            if path.exists():
                sources[f"SQLite {label}"] = path.read_bytes()
    return sources, ids


def _search(settings: Settings, *, raw_files: bool) -> remnants.Haul:
    sources, ids = _sources(settings, raw_files=raw_files)
    return remnants.search(_person(), load_root_keys(settings.root_key_file), ids, sources)


def _register(client: Any, headers: dict[str, str], body: dict[str, Any]) -> str:
    answer = client.post("/v1/registrations", json=body, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["pseudonym"])


def _register_people(platforms: Platforms, client: Any) -> list[tuple[dict[str, str], str]]:
    """The person under test on two platforms, and a bystander who keeps an account; returns
    the person's (headers, pseudonym) pairs."""
    first, second = platforms.create(phone="optional"), platforms.create(phone="optional")
    accounts = []
    for platform in (first, second):
        headers = platforms.headers(platform)
        accounts.append((headers, _register(client, headers, registration(NUMBER, name=NAME, phone=PHONE))))
    _register(client, accounts[0][0], registration(name="李四", sequence=5, phone="+8613800000001"))
    return accounts


def _close(client: Any, accounts: list[tuple[dict[str, str], str]]) -> None:
    for headers, pseudonym in accounts:
        assert client.delete(f"/v1/accounts/{pseudonym}", headers=headers).status_code == 204


def _run_scheduled_rotation(settings: Settings) -> subprocess.CompletedProcess[str]:
    # No request runs beside the test, so no grace is needed before retiring the old keys.
    env = {**admin_env(settings), "ROTATE_KEYS_GRACE_SECONDS": "0"}
    done = subprocess.run(["bash", str(REPO / "scripts" / "rotate-keys")], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@sqlite_only
def test_the_files_hold_nothing_readable_of_an_erased_person_when_the_close_answers(
        app: Flask, client: Any, platforms: Platforms, settings: Settings) -> None:
    # The search works: while the person holds an account, their name opens from the files.
    platform = platforms.create(phone="optional")
    headers = platforms.headers(platform)
    pseudonym = _register(client, headers, registration(NUMBER, name=NAME, phone=PHONE))
    before = _search(settings, raw_files=True)
    assert any(f.startswith("real_name decrypted from SQLite") for f in before.findings), before.findings

    assert client.delete(f"/v1/accounts/{pseudonym}", headers=headers).status_code == 204

    # No rotation yet: the data key that wrapped the person's key is still held, and opens nothing.
    after = _search(settings, raw_files=True)
    assert any(label.startswith("keyring data v1") for label in after.keys)
    assert after.findings == [], "\n".join(after.findings)


@sqlite_only
def test_a_reader_holding_an_old_snapshot_delays_the_scrub_to_the_next_erasure_never_the_answer(
        app: Flask, client: Any, platforms: Platforms, settings: Settings, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("identity.engine_behaviour.SCRUB_WAIT_MS", 200)
    accounts = _register_people(platforms, client)
    reader = sqlite3.connect(_sqlite_files(settings)["main file"], isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM persons").fetchone()  # a snapshot from before the erasure
    try:
        _close(client, accounts)
        assert "the WAL checkpoint after an erasure did not finish" in caplog.text
        assert NAME not in caplog.text and NUMBER not in caplog.text
        assert any(f.startswith("real_name decrypted from SQLite") for f in _search(settings, raw_files=True).findings)
    finally:
        reader.execute("COMMIT")
        reader.close()

    # The next erasure's checkpoint takes the earlier one's pages out too.
    platform = platforms.create()
    other = platforms.headers(platform)
    _close(client, [(other, _register(client, other, registration(name="王五", sequence=9)))])
    found = _search(settings, raw_files=True).findings
    assert found == [], "\n".join(found)


@sqlite_only
def test_a_sanction_trace_keeps_its_index_and_document_while_name_and_phone_leave_the_files(
        app: Flask, client: Any, platforms: Platforms, settings: Settings) -> None:
    platform = platforms.create(phone="optional")
    headers = platforms.headers(platform)
    pseudonym = _register(client, headers, registration(NUMBER, name=NAME, phone=PHONE))
    file(client, headers, pseudonym, kind="blacklist")
    assert client.delete(f"/v1/accounts/{pseudonym}", headers=headers).status_code == 204

    found = _search(settings, raw_files=True).findings
    assert not [f for f in found if f.startswith(("real_name", "phone"))], "\n".join(found)
    # docs/sanctions.md: the trace keeps the encrypted document and its blind index, and with
    # them the blacklist still recognises the person.
    assert any(f.startswith("document number decrypted from persons.document_ct") for f in found)
    assert any(f.startswith("document blind index") for f in found)
    again = client.post("/v1/registrations", json=registration(NUMBER, name=NAME), headers=headers)
    assert (again.status_code, again.get_json()["code"]) == (403, "registration_refused")


def test_after_the_scheduled_rotation_no_key_the_service_holds_opens_anything_of_the_erased_person(
        app: Flask, client: Any, platforms: Platforms, settings: Settings) -> None:
    accounts = _register_people(platforms, client)
    # The search works: while the person holds an account, their data opens from the rows.
    assert any(f.startswith("real_name decrypted from persons.name_ct")
               for f in _search(settings, raw_files=False).findings)
    _close(client, accounts)

    rotation = _run_scheduled_rotation(settings)
    assert "retired data key v1" in rotation.stdout and "retired index key v1" in rotation.stdout
    code, status = keys_json(app.test_cli_runner(), "status")
    states = {(k["kind"], k["version"]): k["state"] for k in status["keys"]}
    assert code == 0
    assert states[("data", 1)] == states[("index", 1)] == "retired"
    assert states[("data", 2)] == states[("index", 2)] == "primary"

    haul = _search(settings, raw_files=not PG_URL)
    # What the service still holds was tried: the new keys, and the bystander's data key.
    assert any(label.startswith("keyring data v2") for label in haul.keys)
    assert not any(label.startswith("keyring data v1") for label in haul.keys)
    assert sum(label.startswith("data key of person") for label in haul.keys) == 1
    assert haul.findings == [], "\n".join(haul.findings)


@sqlite_only
def test_database_files_and_the_instance_folder_are_private_to_the_service(
        tmp_path: Path, root_key_file: Path) -> None:
    instance = tmp_path / "fresh-instance"
    database = instance / "identity.sqlite3"
    previous = os.umask(0o022)  # a typical umask, which would leave new files world-readable
    try:
        settings = make_settings(instance, f"sqlite:///{database}", root_key_file)
        migrate(settings)
        from tests.support.serving import running_app

        with running_app(settings) as served_app:
            client = served_app.test_client()
            platform = Platforms(served_app).create(phone="optional")
            headers = Platforms(served_app).headers(platform)
            _register(client, headers, registration(NUMBER, name=NAME))
            files = _sqlite_files(settings)
            assert files["-wal"].exists() and files["-shm"].exists()
            modes = {label: stat.S_IMODE(path.stat().st_mode) for label, path in files.items() if path.exists()}
            assert modes == {label: 0o600 for label in modes}, modes
            assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    finally:
        os.umask(previous)


@sqlite_only
def test_a_database_file_left_readable_by_others_is_made_private_on_connect(
        tmp_path: Path, settings: Settings, root_key_file: Path) -> None:
    database = Path(make_url(settings.database_url).database or "")
    database.chmod(0o644)
    from tests.support.serving import running_app

    with running_app(settings) as served_app:
        assert served_app.test_client().get("/readyz").status_code == 200
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
