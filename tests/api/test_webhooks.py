"""Webhook endpoints and the events they receive, through the API and `identity-admin webhooks`.

Every delivery is received by a real HTTP server on 127.0.0.1 and verified there with the
`standardwebhooks` library from PyPI; the worker runs in-process (`deliver --once`) against the
test clock. The worker as a real process, killed mid-delivery, is in
tests/integration/test_webhook_worker.py.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from identity.models import AuditEvent, WebhookDelivery, WebhookEndpoint
from identity.settings import Settings
from tests.conftest import make_settings
from tests.support import groups as group_api
from tests.support.people import register, resident_id
from tests.support.sanctions import file
from tests.support.webhooks import WEBHOOK_SCOPES, add_endpoint, deliver_once, receiving, status

NAME, NUMBER = "张三", resident_id(sequence=1)


@pytest.fixture
def settings(tmp_path, database_url, root_key_file) -> Settings:
    """Endpoints on loopback need the operator's allowance, as a private deployment would."""
    return make_settings(tmp_path / "instance", database_url, root_key_file, webhook_allow_private=True)


@pytest.fixture
def auth(platforms, platform) -> dict[str, str]:
    return platforms.headers(platform, WEBHOOK_SCOPES)


@pytest.fixture
def receiver():
    with receiving() as r:
        yield r


def types(payloads: list[dict[str, Any]]) -> list[str]:
    return [p["type"] for p in payloads]


# --- endpoints ----------------------------------------------------------------------------------

def test_an_endpoint_shows_its_secret_once_and_lists_without_it(app, client, auth, receiver):
    created = add_endpoint(client, auth, receiver, "/hooks", ["account.closed"])
    assert created["id"].startswith("whe_") and created["status"] == "enabled"
    assert created["events"] == ["account.closed"] and created["url"] == receiver.url("/hooks")
    secret = base64.b64decode(created["secret"].removeprefix("whsec_"))
    assert created["secret"].startswith("whsec_") and len(secret) == 32
    listed = client.get("/v1/webhook-endpoints", headers=auth)
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    assert [e["id"] for e in listed.get_json()["items"]] == [created["id"]]
    assert "secret" not in listed.get_json()["items"][0]
    with app.app_context():
        from identity.extensions import db
        stored = db.session.get(WebhookEndpoint, created["id"]).secret_wrapped
    assert secret not in stored and created["secret"].encode() not in stored  # wrapped, not in clear


def test_an_idempotent_retry_answers_with_the_secret_which_the_remembered_response_never_holds(app, client, auth,
                                                                                               receiver):
    headers = {**auth, "Idempotency-Key": "hook-1"}
    body = {"url": receiver.url("/h"), "events": ["account.closed"]}
    first = client.post("/v1/webhook-endpoints", json=body, headers=headers)
    again = client.post("/v1/webhook-endpoints", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(client.get("/v1/webhook-endpoints", headers=auth).get_json()["items"]) == 1
    with app.app_context():
        from identity.extensions import db
        from identity.models import IdempotencyRecord
        remembered = db.session.scalars(select(IdempotencyRecord.body)).all()
    assert remembered and all(first.get_json()["secret"] not in b for b in remembered)


def test_creating_an_endpoint_needs_the_webhooks_scope(client, platforms, platform, receiver):
    response = client.post("/v1/webhook-endpoints", json={"url": receiver.url("/h"), "events": ["account.closed"]},
                           headers=platforms.headers(platform))
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_unknown_events_and_fields_are_refused(client, auth, receiver):
    for body in ({"url": receiver.url("/h"), "events": ["account.deleted"]},
                 {"url": receiver.url("/h"), "events": []},
                 {"url": receiver.url("/h"), "events": ["account.closed"], "secret": "mine"}):
        response = client.post("/v1/webhook-endpoints", json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.get_json()["code"] == "validation_failed"
    assert client.get("/v1/webhook-endpoints", headers=auth).get_json()["items"] == []


def test_another_platforms_endpoint_is_not_found_and_not_listed(client, platforms, auth, receiver):
    mine = add_endpoint(client, auth, receiver, "/mine")
    other = platforms.headers(platforms.create("other"), WEBHOOK_SCOPES)
    assert client.get("/v1/webhook-endpoints", headers=other).get_json()["items"] == []
    response = client.delete(f"/v1/webhook-endpoints/{mine['id']}", headers=other)
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert client.delete(f"/v1/webhook-endpoints/{mine['id']}", headers=auth).status_code == 204
    assert client.delete(f"/v1/webhook-endpoints/{mine['id']}", headers=auth).status_code == 404
    assert client.get("/v1/webhook-endpoints", headers=auth).get_json()["items"] == []


def test_creating_and_deleting_an_endpoint_is_audited_by_host_only(app, client, auth, receiver):
    created = add_endpoint(client, auth, receiver, "/hooks?token=s3cr3t")
    client.delete(f"/v1/webhook-endpoints/{created['id']}", headers=auth)
    with app.app_context():
        from identity.extensions import db
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.subject == created["id"])
                                    .order_by(AuditEvent.seq)).all()
        assert [e.action for e in events] == ["webhook_endpoint.created", "webhook_endpoint.deleted"]
        assert "s3cr3t" not in " ".join(str(e.details) for e in events)


# --- the SSRF rule ------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://forum.example/hooks",              # not https
    "https://127.0.0.1/hooks",                  # loopback
    "https://localhost/hooks",                  # loopback by name
    "https://10.1.2.3/hooks",                   # private
    "https://192.168.0.10/hooks",               # private
    "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
    "https://[::1]/hooks",                      # IPv6 loopback
    "https://[fe80::1]/hooks",                  # IPv6 link-local
    "https://[::ffff:10.0.0.1]/hooks",          # IPv4-mapped private
    "https://100.64.0.1/hooks",                 # shared address space
    "https://0.0.0.0/hooks",                    # unspecified
    "https://internal.example/hooks",           # a name that resolves to a private address
    "https://user:pw@forum.example/hooks",      # credentials in the URL
])
def test_urls_that_reach_private_networks_are_refused(tmp_path, database_url, root_key_file, platforms, monkeypatch,
                                                      url):
    from identity import create_app
    from identity.services.webhooks import addresses

    real = addresses.resolve
    monkeypatch.setattr(addresses, "resolve", lambda host, port: (
        [ipaddress.ip_address("10.9.8.7")] if host == "internal.example"
        else [ipaddress.ip_address("93.184.216.34")] if host == "forum.example" else real(host, port)))
    app = create_app(make_settings(tmp_path / "strict", database_url, root_key_file))
    client = app.test_client()
    headers = type(platforms)(app).headers(type(platforms)(app).create("strict"), WEBHOOK_SCOPES)
    response = client.post("/v1/webhook-endpoints", json={"url": url, "events": ["account.closed"]}, headers=headers)
    assert response.status_code == 422, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json()["code"] == "validation_failed" and "url" in response.get_json()["errors"]
    assert client.get("/v1/webhook-endpoints", headers=headers).get_json()["items"] == []
    fine = client.post("/v1/webhook-endpoints", json={"url": "https://forum.example/hooks",
                                                      "events": ["account.closed"]}, headers=headers)
    assert fine.status_code == 201, fine.get_json()


def test_a_name_that_turns_private_after_creation_is_not_posted_to(app, client, auth, monkeypatch, runner):
    """DNS rebinding: checked at creation and again, on a fresh resolution, at delivery."""
    from identity import create_app
    from identity.services.webhooks import addresses

    answers = {"hooks.example": [ipaddress.ip_address("93.184.216.34")]}
    monkeypatch.setattr(addresses, "resolve", lambda host, port: answers[host])
    current = app.extensions["identity"].settings
    strict = create_app(make_settings(current.instance_path, current.database_url, current.root_key_file))
    created = strict.test_client().post("/v1/webhook-endpoints", json={"url": "https://hooks.example/h",
                                                                       "events": ["account.closed"]}, headers=auth)
    assert created.status_code == 201
    pseudonym = register(client, auth)
    answers["hooks.example"] = [ipaddress.ip_address("127.0.0.1")]
    assert client.delete(f"/v1/accounts/{pseudonym}", headers=auth).status_code in (200, 204)
    strict_runner = strict.test_cli_runner()
    done = deliver_once(strict_runner)
    assert done["delivered"] == 0 and done["retried"] == 1
    report = status(strict_runner)["items"][0]
    assert report["failing_since"] is not None and "private" in report["last_error"]


# --- events -------------------------------------------------------------------------------------

def test_an_event_from_each_source_arrives_signed(clock, app, client, auth, receiver, runner, monkeypatch):
    add_endpoint(client, auth, receiver, "/all")
    founder = register(client, auth, sequence=1)
    other = register(client, auth, sequence=2)
    ban = file(client, auth, other)                                    # sanction.created, account.restricted
    assert client.post(f"/v1/sanctions/{ban['id']}/lift", json={"reason": "appeal upheld"},
                       headers=auth).status_code == 200                 # sanction.lifted, account.unrestricted
    short = file(client, auth, other, expires_at=(clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    group = group_api.found(client, auth, founder)
    group_api.close(client, auth, group["id"])                          # group.closed (+ its sanctions)
    assert client.delete(f"/v1/accounts/{other}", headers=auth).status_code in (200, 204)  # account.closed
    clock.advance(hours=2)
    done = deliver_once(runner)                                         # sweeps: sanction.expired
    assert receiver.unverified == []
    received = receiver.payloads("/all")
    assert done["delivered"] == len(received)
    assert set(types(received)) == {"sanction.created", "account.restricted", "sanction.lifted",
                                    "account.unrestricted", "group.closed", "account.closed", "sanction.expired"}
    by_type = {p["type"]: p for p in received}
    assert by_type["sanction.lifted"]["data"]["sanction"] == ban["id"]
    assert by_type["sanction.expired"]["data"]["sanction"] == short["id"]
    assert by_type["group.closed"]["data"]["group"] == group["id"]
    assert by_type["group.closed"]["data"]["founder"] == founder
    assert by_type["account.closed"]["data"] == {"pseudonym": other, "closed_at": by_type["account.closed"]["data"]
                                                 ["closed_at"]}
    for payload in received:
        assert set(payload) == {"id", "type", "created_at", "data"} and payload["id"].startswith("evt_")
    headers = receiver.delivered[0].headers
    assert headers["webhook-id"] == receiver.delivered[0].payload["id"]
    assert headers["webhook-signature"].startswith("v1,")
    # Restricted when a restriction starts (the closure's second sanction of the founder does not
    # repeat it); unrestricted when the lift ends it, not when the expiry does (the account was closed).
    restricted = [p["data"]["pseudonym"] for p in received if p["type"] == "account.restricted"]
    assert sorted(restricted) == sorted([other, other, founder])
    assert [p["data"]["pseudonym"] for p in received if p["type"] == "account.unrestricted"] == [other]
    assert deliver_once(runner)["delivered"] == 0  # each event once


def test_restriction_is_announced_when_it_starts_and_ends_not_for_every_sanction(app, client, auth, receiver,
                                                                                 runner):
    add_endpoint(client, auth, receiver, "/acct", ["account.restricted", "account.unrestricted"])
    pseudonym = register(client, auth)
    first = file(client, auth, pseudonym)
    second = file(client, auth, pseudonym, kind="group_management_suspension")
    client.post(f"/v1/sanctions/{first['id']}/lift", json={"reason": "x"}, headers=auth)
    deliver_once(runner)
    assert types(receiver.payloads()) == ["account.restricted"]
    client.post(f"/v1/sanctions/{second['id']}/lift", json={"reason": "x"}, headers=auth)
    deliver_once(runner)
    assert types(receiver.payloads()) == ["account.restricted", "account.unrestricted"]
    assert receiver.payloads()[1]["data"]["sanction"] == second["id"]


def test_a_sanction_expiry_is_announced_exactly_once(clock, app, client, auth, receiver, runner, monkeypatch):
    add_endpoint(client, auth, receiver, "/exp", ["sanction.expired", "account.unrestricted"])
    pseudonym = register(client, auth)
    until = (clock.now() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sanction = file(client, auth, pseudonym, expires_at=until)
    assert deliver_once(runner)["expiries_announced"] == 0
    clock.advance(hours=1)
    assert deliver_once(runner)["expiries_announced"] == 1
    assert deliver_once(runner)["expiries_announced"] == 0
    assert sorted(types(receiver.payloads())) == ["account.unrestricted", "sanction.expired"]
    expired = next(p["data"] for p in receiver.payloads() if p["type"] == "sanction.expired")
    assert expired["sanction"] == sanction["id"] and expired["expired_at"] == until


def test_record_event_stores_a_verification_session_event_for_subscribers(app, client, auth, platform, receiver,
                                                                          runner):
    add_endpoint(client, auth, receiver, "/vs", ["verification_session.completed"])
    from identity.clock import utc_now
    from identity.extensions import db
    from identity.services.webhooks.outbox import record_event

    with app.app_context():
        event_id = record_event(db.session(), platform, "verification_session.completed",
                                {"session": "vs_x", "pseudonym": "psn_y", "completed_at": utc_now()}, utc_now())
        nobody = record_event(db.session(), platform, "verification_session.failed", {"session": "vs_x"}, utc_now())
        db.session.commit()
    assert nobody is None
    deliver_once(runner)
    assert [(p["id"], p["type"], p["data"]["session"]) for p in receiver.payloads()] == [
        (event_id, "verification_session.completed", "vs_x")]


def test_a_platform_never_receives_another_platforms_events(app, client, platforms, auth, receiver, runner):
    add_endpoint(client, auth, receiver, "/a")
    other_auth = platforms.headers(platforms.create("other"), WEBHOOK_SCOPES)
    add_endpoint(client, other_auth, receiver, "/b")
    mine = register(client, auth, sequence=1)
    theirs = register(client, other_auth, sequence=2)
    file(client, auth, mine)
    client.delete(f"/v1/accounts/{theirs}", headers=other_auth)
    deliver_once(runner)
    a, b = receiver.payloads("/a"), receiver.payloads("/b")
    assert set(types(a)) == {"sanction.created", "account.restricted"}
    assert types(b) == ["account.closed"]
    assert theirs not in json.dumps(a) and mine not in json.dumps(b)


def test_a_deleted_endpoint_gets_nothing_more(app, client, auth, receiver, runner):
    created = add_endpoint(client, auth, receiver, "/gone")
    pseudonym = register(client, auth)
    file(client, auth, pseudonym)
    client.delete(f"/v1/webhook-endpoints/{created['id']}", headers=auth)
    assert deliver_once(runner)["delivered"] == 0
    assert receiver.requests == {}


def test_no_personal_data_in_any_body_log_or_audit_line(app, client, auth, receiver, runner, caplog):
    caplog.set_level(logging.DEBUG)
    receiver.answer = lambda _p, n: 500 if n == 0 else 200
    add_endpoint(client, auth, receiver, "/pii")
    pseudonym = register(client, auth, name=NAME, number=NUMBER)
    file(client, auth, pseudonym)
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    deliver_once(runner)
    with app.app_context():
        from identity.extensions import db
        bodies = " ".join(db.session.scalars(select(WebhookDelivery.body)))
        audit = " ".join(f"{e.action} {e.subject} {e.details}" for e in db.session.scalars(select(AuditEvent)))
    everything = " ".join([bodies, audit, caplog.text, *(d.body.decode() for d in receiver.delivered)])
    assert bodies and "account.closed" in bodies
    for secret in (NAME, NUMBER, NUMBER[-6:], "report-8812"):
        assert secret not in everything


# --- retries, disabling, status, purge ----------------------------------------------------------

def test_a_receiver_answering_500_then_200_gets_the_event_on_a_retry(clock, app, client, auth, receiver, runner,
                                                                     monkeypatch):
    receiver.answer = lambda _p, n: 500 if n == 0 else 200
    add_endpoint(client, auth, receiver, "/flaky", ["account.closed"])
    pseudonym = register(client, auth)
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    first = deliver_once(runner)
    assert (first["delivered"], first["retried"]) == (0, 1)
    failing = status(runner)
    assert failing["failing"] == 1 and failing["items"][0]["last_error"] == "HTTP 500"
    assert deliver_once(runner)["delivered"] == 0  # not due yet: the backoff holds it
    clock.advance(seconds=6)
    assert deliver_once(runner)["delivered"] == 1
    assert types(receiver.payloads()) == ["account.closed"] and receiver.requests["/flaky"] == 2
    healthy = status(runner)
    assert (healthy["failing"], healthy["backlog"]) == (0, 0)


def test_a_receiver_down_for_three_days_ends_disabled_and_shown_in_status(clock, app, client, auth, receiver, runner,
                                                                         monkeypatch):
    receiver.answer = lambda _p, _n: 503
    created = add_endpoint(client, auth, receiver, "/down", ["account.closed"])
    pseudonym = register(client, auth)
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    start, attempts = clock.now(), 0
    while clock.now() - start < timedelta(days=3, hours=7):
        done = deliver_once(runner)
        attempts += done["retried"] + done["abandoned"]
        if done["disabled"]:
            break
        clock.advance(hours=1)
    assert done["disabled"] == [created["id"]]
    assert 10 <= attempts == receiver.requests["/down"]  # backoff: far fewer tries than hours
    report = status(runner)
    assert report["disabled"] == 1
    item = report["items"][0]
    assert item["status"] == "disabled" and item["disabled_at"] and "failed for 3 days" in item["disabled_reason"]
    assert item["backlog"] == 0
    text = runner.invoke(args=["admin", "webhooks", "status"]).output
    assert created["id"] in text and "disabled" in text
    listed = client.get("/v1/webhook-endpoints", headers=auth).get_json()["items"][0]
    assert listed["status"] == "disabled" and listed["disabled_reason"]
    with app.app_context():
        from identity.extensions import db
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "webhook_endpoint.disabled", AuditEvent.subject == created["id"])) == 1
    # A disabled endpoint receives nothing more.
    other = register(client, auth, sequence=2)
    client.delete(f"/v1/accounts/{other}", headers=auth)
    before = receiver.requests["/down"]
    deliver_once(runner)
    assert receiver.requests["/down"] == before


def test_purge_removes_deliveries_a_month_after_they_ended(clock, app, client, auth, receiver, runner, monkeypatch):
    add_endpoint(client, auth, receiver, "/p", ["account.closed"])
    for n in (1, 2):
        client.delete(f"/v1/accounts/{register(client, auth, sequence=n)}", headers=auth)
    deliver_once(runner)
    clock.advance(days=31)
    result = runner.invoke(args=["admin", "purge", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["purged"]["webhook_deliveries"] == 2
    with app.app_context():
        from identity.extensions import db
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_endpoint_secrets_move_with_a_data_key_rotation_and_survive_the_old_keys_retirement(app, client, auth,
                                                                                            receiver, runner):
    add_endpoint(client, auth, receiver, "/rotated", ["account.closed"])
    pseudonym = register(client, auth)
    refused = runner.invoke(args=["admin", "keys", "retire", "data", "1", "--yes"])
    assert refused.exit_code == 1  # v1 is primary (and wraps the secret)
    assert runner.invoke(args=["admin", "keys", "rotate", "data"]).exit_code == 0
    retired = runner.invoke(args=["admin", "keys", "retire", "data", "1", "--yes"])
    assert retired.exit_code == 0, retired.output
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    assert deliver_once(runner)["delivered"] == 1
    assert types(receiver.payloads()) == ["account.closed"] and receiver.unverified == []


def test_https_goes_to_the_checked_address_and_verifies_the_certificate_against_the_host_name(
        app, client, auth, runner, monkeypatch, tmp_path):
    """The connection is made to the address the check approved; TLS still checks the name."""
    from identity.services.webhooks import addresses
    from tests.support.webhooks import receiving_tls, self_signed

    cert, key = self_signed(tmp_path, "hooks.test")
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # the trust anchor, as an operator's CA bundle would be
    monkeypatch.setattr(addresses, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    with receiving_tls(cert, key) as receiver:
        for name in ("hooks.test", "other.test"):  # other.test: the certificate does not name it
            response = client.post("/v1/webhook-endpoints", headers=auth, json={
                "url": f"https://{name}:{receiver.port}/{name}", "events": ["account.closed"]})
            assert response.status_code == 201
            receiver.secrets[f"/{name}"] = response.get_json()["secret"]
        client.delete(f"/v1/accounts/{register(client, auth)}", headers=auth)
        done = deliver_once(runner)
    assert (done["delivered"], done["retried"]) == (1, 1)
    assert types(receiver.payloads("/hooks.test")) == ["account.closed"] and receiver.unverified == []
    assert "/other.test" not in receiver.requests
    assert receiver.delivered[0].headers["host"] == f"hooks.test:{receiver.port}"
