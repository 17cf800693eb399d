"""The four features together, end to end, through the public interfaces only: the HTTP API
(test clients, and a real server on loopback where a posting service would fetch the JWKS) and
the admin CLI. Runs on SQLite, and on PostgreSQL when IDENTITY_TEST_DATABASE_URL is set.

Registration core + tokens + sanctions + key rotation: a sanction changes what a token allows
at once and stops changing it when lifted or expired; blacklists follow the person through
closing, re-registering and a global widening; key rotations leave every token, blacklist,
duplicate check and personal-data read working; and the audit chain records every step
without a name or a number.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import urllib3
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from realname_identity_client import IntrospectionClient, TokenVerifier
from sqlalchemy import func, select

from identity.clock import rfc3339
from identity.models import AuditEvent, CacheEpoch, Person
from identity.settings import Settings
from tests.support.people import register, registration, resident_id
from tests.support.rotation import keys, keys_json, rows, seed
from tests.support.sanctions import file, person_of
from tests.support.serving import running_app, served
from tests.support.tokens import claims_of, header_of, introspect

FULL = "post group:create group:manage"
AFTER = {"posting_ban": "group:create group:manage", "group_management_suspension": "post",
         "blacklist": "group:create group:manage"}
NAME, NUMBER, PHONE = "张三", resident_id(sequence=7), "+8613800138000"


# --- helpers --------------------------------------------------------------------------------


def _issue(client: FlaskClient, headers: dict[str, str], pseudonym: str, **body: Any) -> Any:
    return client.post("/v1/tokens", json={"pseudonym": pseudonym, **body}, headers=headers)


def _token(client: FlaskClient, headers: dict[str, str], pseudonym: str, **body: Any) -> str:
    response = _issue(client, headers, pseudonym, **body)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["token"])


def _lift(client: FlaskClient, headers: dict[str, str], sanction_id: str) -> dict[str, Any]:
    response = client.post(f"/v1/sanctions/{sanction_id}/lift", json={"reason": "appeal upheld"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _close(client: FlaskClient, headers: dict[str, str], pseudonym: str) -> None:
    response = client.delete(f"/v1/accounts/{pseudonym}", headers=headers)
    assert response.status_code == 204, response.get_json()


def _admin(runner: FlaskCliRunner, *args: str) -> Any:
    return runner.invoke(args=["admin", *args])


def _epochs(app: Flask) -> dict[str, int]:
    return {topic: counter for topic, counter in rows(app, select(CacheEpoch.topic, CacheEpoch.counter))}


def _audit_count(app: Flask) -> int:
    return int(rows(app, select(func.count()).select_from(AuditEvent))[0][0])


@pytest.fixture
def other_process(settings: Settings) -> Iterator[Flask]:
    """A second app on the same database: another server process, with caches of its own."""
    with running_app(settings) as application:
        yield application


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on loopback, for posting services that fetch the JWKS."""
    with served(app) as url:
        yield url


# --- sanctions and tokens -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["posting_ban", "group_management_suspension"])
def test_a_sanction_filed_after_issue_shows_at_once_in_introspection_and_issue_and_its_lift_restores_both(
        client, auth, platforms, platform, other_process, clock, kind):
    pseudonym = register(client, auth)
    token = _token(client, auth, pseudonym)
    # The posting service introspects with a key of its own, through another server process
    # whose caches already hold the account's unsanctioned state.
    posting = platforms.headers(platform, ("tokens:introspect",))
    elsewhere = other_process.test_client()
    assert introspect(elsewhere, posting, token)["scope"] == FULL
    assert introspect(client, posting, token)["scope"] == FULL

    sanction = file(client, auth, pseudonym, kind=kind)
    for answering in (client, elsewhere):
        seen = introspect(answering, posting, token)
        assert (seen["active"], seen["scope"]) == (True, AFTER[kind])
    issued = _issue(elsewhere, auth, pseudonym)
    if kind == "posting_ban":
        assert (issued.status_code, issued.get_json()["code"]) == (403, "account_restricted")
    else:
        assert issued.status_code == 201 and claims_of(issued.get_json()["token"])["scope"] == "post"

    _lift(client, auth, sanction["id"])
    for answering in (client, elsewhere):
        assert introspect(answering, posting, token)["scope"] == FULL
        assert claims_of(_token(answering, auth, pseudonym))["scope"] == FULL


def test_an_expiring_sanction_restores_the_scope_by_the_clock_with_no_write(app, client, auth, platforms, platform,
                                                                            clock):
    pseudonym = register(client, auth)
    token = _token(client, auth, pseudonym, ttl_seconds=3600)
    posting = platforms.headers(platform, ("tokens:introspect",))
    ban = file(client, auth, pseudonym, kind="posting_ban", expires_at=rfc3339(clock.now() + timedelta(minutes=10)))
    far = file(client, auth, pseudonym, kind="group_management_suspension",
               expires_at=rfc3339(clock.now() + timedelta(days=365)))
    assert introspect(client, posting, token)["scope"] == ""
    assert _issue(client, auth, pseudonym).status_code == 403
    epochs_before, events_before = _epochs(app), _audit_count(app)

    clock.advance(minutes=10, seconds=-1)
    assert introspect(client, posting, token)["scope"] == ""  # cached, and still right
    assert _issue(client, auth, pseudonym).get_json()["code"] == "account_restricted"
    clock.advance(seconds=1)  # the posting ban's expires_at: nobody writes anything
    assert introspect(client, posting, token)["scope"] == "post"
    assert claims_of(_token(client, auth, pseudonym))["scope"] == "post"
    statuses = {s["id"]: s["status"] for s in client.get(
        "/v1/sanctions", query_string={"pseudonym": pseudonym}, headers=auth).get_json()["items"]}
    assert statuses == {ban["id"]: "expired", far["id"]: "active"}
    assert (_epochs(app), _audit_count(app)) == (epochs_before, events_before)


@pytest.mark.parametrize("kind", ["posting_ban", "group_management_suspension"])
def test_a_lift_racing_token_issues_never_lets_a_token_issued_under_the_sanction_carry_its_permission(
        app, client, auth, platforms, platform, other_process, kind):
    """Issuers on two server processes (one with warm caches that saw the sanction), each thread
    with its own test client, issue back to back while the lift commits on a third."""
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym, kind=kind)
    withheld = "post" if kind == "posting_ban" else "group:create"
    warm = _issue(other_process.test_client(), auth, pseudonym)  # the other process caches the sanction
    assert warm.status_code == (403 if kind == "posting_ban" else 201)

    start = threading.Barrier(4)
    lifted = threading.Event()
    lift_times: dict[str, float] = {}
    issues: list[tuple[float, float, int, dict[str, Any]]] = []
    lock = threading.Lock()

    def issuer(application: Flask) -> None:
        own = application.test_client()
        start.wait()
        after_lift = 0
        while after_lift < 5:
            began = time.monotonic()
            response = _issue(own, auth, pseudonym)
            ended = time.monotonic()
            with lock:
                issues.append((began, ended, response.status_code, response.get_json()))
            if lifted.is_set():
                after_lift += 1

    def lifter() -> None:
        own = app.test_client()
        start.wait()
        time.sleep(0.02)  # let the issuers get going
        lift_times["began"] = time.monotonic()
        response = own.post(f"/v1/sanctions/{sanction['id']}/lift", json={"reason": "appeal upheld"}, headers=auth)
        lift_times["ended"] = time.monotonic()
        lift_times["status"] = response.status_code
        lifted.set()

    threads = [threading.Thread(target=issuer, args=(a,)) for a in (app, other_process, other_process)]
    threads.append(threading.Thread(target=lifter))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert lift_times["status"] == 200
    assert all(status in (201, 403) for _, _, status, _ in issues), issues

    tokens = [body["token"] for _, _, status, body in issues if status == 201]
    for began, ended, status, body in issues:
        carries = status == 201 and withheld in claims_of(body["token"])["scope"].split()
        if carries:
            assert ended > lift_times["began"]  # issued under the sanction: it would not carry it
        if began > lift_times["ended"]:  # asked after the lift committed
            assert status == 201 and claims_of(body["token"])["scope"] == FULL, body
        if status == 403:
            assert kind == "posting_ban" and body["code"] == "account_restricted"
            assert began < lift_times["ended"]
    assert sum(began > lift_times["ended"] for began, *_ in issues) >= 5
    assert any(ended < lift_times["began"] for _, ended, *_ in issues)  # the race began under the sanction

    posting = platforms.headers(platform, ("tokens:introspect",))
    for answering in (client, other_process.test_client()):
        for token in tokens:
            seen = introspect(answering, posting, token)
            assert (seen["active"], seen["scope"]) == (True, FULL)


# --- blacklists across platforms ------------------------------------------------------------


def test_a_blacklist_follows_the_person_on_its_platform_and_a_global_one_on_every_platform(
        app, client, runner, platforms, platform, auth, clock):
    forum_pseudonym = register(client, auth, number=NUMBER)
    sanction = file(client, auth, forum_pseudonym, kind="blacklist", reason_code="fraud")
    _close(client, auth, forum_pseudonym)

    again = client.post("/v1/registrations", json=registration(NUMBER), headers=auth)
    assert (again.status_code, again.get_json()["code"]) == (403, "registration_refused")

    chat = platforms.create("chat")
    chat_auth = platforms.headers(chat)
    chat_pseudonym = register(client, chat_auth, number=NUMBER)  # another platform: not covered
    account = client.get(f"/v1/accounts/{chat_pseudonym}", headers=chat_auth).get_json()
    assert (account["status"], account["restrictions"]) == ("active", [])
    chat_token = _token(client, chat_auth, chat_pseudonym)
    assert introspect(client, chat_auth, chat_token)["scope"] == FULL

    widened = _admin(runner, "sanctions", "blacklist-global", sanction["id"], "--json")
    assert widened.exit_code == 0, widened.output
    assert json.loads(widened.stdout)["scope"] == "global"
    # Widening changes registrations only: the chat account and its tokens are untouched.
    assert introspect(client, chat_auth, chat_token)["scope"] == FULL
    assert client.get(f"/v1/accounts/{chat_pseudonym}", headers=chat_auth).get_json()["restrictions"] == []

    _close(client, chat_auth, chat_pseudonym)
    assert person_of(app, chat_pseudonym).state == "sanction_trace"
    refused = client.post("/v1/registrations", json=registration(NUMBER), headers=chat_auth)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "registration_refused")
    body = json.dumps(refused.get_json(), ensure_ascii=False)
    assert "no end date" in refused.get_json()["detail"]
    for secret in (platform, "forum", "fraud", sanction["id"], forum_pseudonym, chat_pseudonym, NUMBER, NAME):
        assert secret not in body


# --- key rotations with tokens and sanctions outstanding -------------------------------------


def test_rotating_the_signing_key_keeps_outstanding_tokens_valid_offline_and_online(
        app, client, runner, platforms, platform, auth, base_url):
    pseudonym = register(client, auth)
    old_tokens = [_token(client, auth, pseudonym, ttl_seconds=3600) for _ in range(2)]
    old_kid = header_of(old_tokens[0])["kid"]
    issuer = app.extensions["identity"].settings.issuer
    introspection = IntrospectionClient(f"{base_url}/v1/tokens/introspect",
                                        platforms.key(platform, ("tokens:introspect",)))
    skew = [0.0]  # the posting service's clock, moved on by hand
    cached = TokenVerifier(f"{base_url}/.well-known/jwks.json", issuer, platform, introspection=introspection,
                           clock=lambda: time.time() + skew[0])
    assert cached.verify(old_tokens[0]).sub == pseudonym  # this posting service holds the old key set

    rotated = _admin(runner, "keys", "rotate", "signing", "--json")
    assert rotated.exit_code == 0, rotated.output
    rotation = json.loads(rotated.stdout)
    assert (rotation["version"], rotation["previous"]) == (2, 1)

    new_token = _token(client, auth, pseudonym)
    new_kid = header_of(new_token)["kid"]
    assert new_kid != old_kid
    jwks = urllib3.request("GET", f"{base_url}/.well-known/jwks.json").json()
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]

    fresh = TokenVerifier(f"{base_url}/.well-known/jwks.json", issuer, platform, introspection=introspection)
    assert cached.verify(old_tokens[1]).sub == pseudonym  # its cached set still holds the old key
    # The new kid makes it refetch the set, once its refresh interval since the last fetch has passed.
    skew[0] = cached.jwks.min_refresh_interval
    for verifier in (cached, fresh):
        for token in (*old_tokens, new_token):
            claims = verifier.verify(token)
            assert claims.sub == pseudonym and claims.allows("post")
            assert verifier.verify(token, online=True).sub == pseudonym
    for token in (*old_tokens, new_token):
        assert introspect(client, auth, token)["active"] is True

    refused = _admin(runner, "keys", "retire", "signing", "1", "--yes")
    assert refused.exit_code == 1
    assert "may still verify unexpired tokens" in refused.output
    assert [k["kid"] for k in urllib3.request("GET", f"{base_url}/.well-known/jwks.json").json()["keys"]] == [
        new_kid, old_kid]
    code, status = keys_json(runner, "status")
    signing = {k["version"]: k["state"] for k in status["keys"] if k["kind"] == "signing"}
    assert code == 0 and signing == {1: "active", 2: "primary"}

    # Revoking an old token still works after the rotation, and only introspection sees it.
    assert client.post("/v1/tokens/revoke", data={"token": old_tokens[1]}, headers=auth).status_code == 200
    assert introspect(client, auth, old_tokens[1]) == {"active": False}
    assert introspect(client, auth, old_tokens[0])["active"] is True
    assert fresh.verify(old_tokens[1]).sub == pseudonym  # offline cannot see a revocation


def test_rotating_the_index_key_keeps_blacklisted_traces_refused_and_duplicates_found(
        app, client, runner, platform, auth, clock):
    seed(app, 40, start=10_000, trace_every=6, erased_every=9)  # others, some of them traces
    banned = register(client, auth, number=resident_id(sequence=1))
    file(client, auth, banned, kind="blacklist")
    _close(client, auth, banned)
    holder = register(client, auth, number=resident_id(sequence=2))
    assert person_of(app, banned).state == "sanction_trace"

    rotated = _admin(runner, "keys", "rotate", "index", "--batch-size", "7", "--json")
    assert rotated.exit_code == 0, rotated.output
    report = json.loads(rotated.stdout)
    assert (report["version"], report["failed"]) == (2, 0)
    assert person_of(app, banned).doc_index_version == 2

    refused = client.post("/v1/registrations", json=registration(resident_id(sequence=1)), headers=auth)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "registration_refused")
    duplicate = client.post("/v1/registrations", json=registration(resident_id(sequence=2)), headers=auth)
    assert (duplicate.status_code, duplicate.get_json()["code"]) == (409, "duplicate_identity")
    assert duplicate.get_json()["existing_pseudonyms"] == [holder]

    verified = _admin(runner, "keys", "verify")
    assert verified.exit_code == 0, verified.output
    code, status = keys_json(runner, "status")
    index = {k["version"]: (k["state"], k["records"]) for k in status["keys"] if k["kind"] == "index"}
    held = rows(app, select(func.count()).select_from(Person).where(Person.doc_index.is_not(None)))[0][0]
    assert code == 0 and index == {1: ("active", 0), 2: ("primary", held)}
    assert keys(runner, "retire", "index", "1", "--yes").exit_code == 0


def test_rotating_the_data_key_keeps_personal_data_readable_and_lets_the_old_key_retire(
        app, client, runner, platforms, clock):
    auth = platforms.headers(platforms.create("phones", phone="optional"))
    pseudonym = register(client, auth, number=NUMBER, phone=PHONE)
    kept = register(client, auth, number=resident_id(sequence=8))
    file(client, auth, kept, kind="posting_ban")
    _close(client, auth, kept)  # a trace: its DEK must be re-wrapped as well

    rotated = _admin(runner, "keys", "rotate", "data", "--json")
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(rotated.stdout)["failed"] == 0
    assert (person_of(app, pseudonym).dek_version, person_of(app, kept).dek_version) == (2, 2)

    retired = _admin(runner, "keys", "retire", "data", "1", "--yes")
    assert retired.exit_code == 0, retired.output
    data = client.get(f"/v1/accounts/{pseudonym}/personal-data", headers=auth)
    assert data.status_code == 200, data.get_json()
    body = data.get_json()
    assert body["real_name"] == NAME
    assert body["id_document"] == {"type": "cn_resident_id", "number": NUMBER[:3] + "*" * 13 + NUMBER[-2:]}
    assert body["phone"].startswith(PHONE[:3]) and body["phone"].endswith(PHONE[-2:])
    assert _admin(runner, "keys", "verify").exit_code == 0
    # The trace still binds: registering again revives the same person, restricted at once.
    again = register(client, auth, number=resident_id(sequence=8))
    assert client.get(f"/v1/accounts/{again}", headers=auth).get_json()["status"] == "restricted"


def test_every_step_of_a_day_of_operations_is_audited_without_personal_data_and_the_chain_verifies(
        app, client, runner, platforms, clock):
    auth = platforms.headers(platforms.create("phones", phone="optional"))
    pseudonym = register(client, auth, number=NUMBER, phone=PHONE)
    token = _token(client, auth, pseudonym)
    assert client.post("/v1/tokens/revoke", data={"token": token}, headers=auth).status_code == 200
    ban = file(client, auth, pseudonym, kind="posting_ban")
    _lift(client, auth, ban["id"])
    blacklist = file(client, auth, pseudonym, kind="blacklist")
    assert _admin(runner, "sanctions", "blacklist-global", blacklist["id"]).exit_code == 0
    assert client.get(f"/v1/accounts/{pseudonym}/personal-data", headers=auth).status_code == 200
    _close(client, auth, pseudonym)
    assert client.post("/v1/registrations", json=registration(NUMBER), headers=auth).status_code == 403
    for kind in ("signing", "index", "data"):
        result = _admin(runner, "keys", "rotate", kind)
        assert result.exit_code == 0, result.output
    assert _admin(runner, "keys", "retire", "data", "1", "--yes").exit_code == 0
    assert _admin(runner, "keys", "verify").exit_code == 0

    verified = _admin(runner, "audit", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["ok"] is True

    events = rows(app, select(AuditEvent.action, AuditEvent.subject, AuditEvent.details).order_by(AuditEvent.seq))
    actions = [action for action, _, _ in events]
    for expected in ("account.registered", "token.revoked", "sanction.filed", "sanction.lifted", "sanction.widened",
                     "personal_data.read", "account.closed", "registration.refused", "keys.rotation_started",
                     "keys.rotation_finished", "keys.retired", "keys.verified"):
        assert expected in actions, expected
    rotated = [json.loads(details)["kind"] for action, _, details in events if action == "keys.rotation_finished"]
    assert sorted(rotated) == ["data", "index", "signing"]
    digits = NUMBER.replace("X", "")
    for action, subject, details in events:
        text = f"{subject} {details}"
        for secret in (NAME, NUMBER, digits, PHONE, PHONE.lstrip("+"), NUMBER[-6:], "appeal upheld"):
            assert secret not in text, (action, secret)


def test_closing_the_last_account_under_a_posting_ban_keeps_a_trace_that_its_lift_erases(
        app, client, auth, platforms, clock):
    pseudonym = register(client, auth, number=NUMBER)
    ban = file(client, auth, pseudonym, kind="posting_ban")
    _close(client, auth, pseudonym)
    trace = person_of(app, pseudonym)
    assert trace.state == "sanction_trace" and trace.doc_index is not None and trace.document_ct is not None
    assert (trace.name_ct, trace.phone_ct, trace.birth_date_ct) == (None, None, None)
    closed = client.get(f"/v1/accounts/{pseudonym}/personal-data", headers=auth)
    assert (closed.status_code, closed.get_json()["code"]) == (410, "identity_erased")

    _lift(client, auth, ban["id"])
    erased = person_of(app, pseudonym)
    assert erased.state == "erased" and erased.erased_at is not None
    assert (erased.doc_index, erased.doc_index_version, erased.dek_wrapped, erased.dek_version, erased.name_ct,
            erased.document_ct, erased.phone_ct, erased.birth_date_ct) == (None,) * 8
    data = client.get(f"/v1/accounts/{pseudonym}/personal-data", headers=auth)
    assert (data.status_code, data.get_json()["code"]) == (410, "identity_erased")
    issued = _issue(client, auth, pseudonym)
    assert (issued.status_code, issued.get_json()["code"]) == (403, "account_restricted")
    # Erased means unlinkable: the same document registers as a new person, unrestricted.
    again = register(client, auth, number=NUMBER)
    assert person_of(app, again).id != erased.id
    assert claims_of(_token(client, auth, again))["scope"] == FULL


def test_the_old_signing_key_retires_only_once_the_jwks_has_stopped_publishing_it(
        app, client, runner, platforms, platform, auth, clock):
    """Tokens verify until exp + 30 s leeway, and the JWKS keeps the old key that long: `keys
    retire signing` must not destroy it any sooner, nor `keys rotate signing` promise less."""
    pseudonym = register(client, auth)
    last_old = _token(client, auth, pseudonym, ttl_seconds=3600)  # signed at the rotation's instant
    old_kid = header_of(last_old)["kid"]
    rotated = _admin(runner, "keys", "rotate", "signing", "--json")
    assert rotated.exit_code == 0, rotated.output
    rotated_at = clock.now()
    published_until = rfc3339(rotated_at + timedelta(seconds=3600 + 30))
    assert json.loads(rotated.stdout)["previous_verifies_until"] == published_until

    clock.advance(seconds=3600 + 10)  # past exp, inside the leeway every verifier grants
    assert old_kid in [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert introspect(client, auth, last_old)["active"] is True
    refused = _admin(runner, "keys", "retire", "signing", "1", "--yes")
    assert refused.exit_code == 1 and published_until in refused.output
    assert introspect(client, auth, last_old)["active"] is True

    clock.advance(seconds=20)  # the JWKS window ends
    assert old_kid not in [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]
    assert _admin(runner, "keys", "retire", "signing", "1", "--yes").exit_code == 0
