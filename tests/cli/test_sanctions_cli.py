"""`identity-admin sanctions blacklist-global` and `purge-expired`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from identity.clock import rfc3339
from identity.models import AuditEvent
from tests.support.people import register, registration
from tests.support.sanctions import file, person_of


def _admin(runner, *args):
    return runner.invoke(args=["admin", "sanctions", *args])


def _events(app, action):
    from identity.extensions import db

    with app.app_context():
        return [(e.subject, json.loads(e.details)) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


def test_a_global_blacklist_refuses_on_every_platform_and_says_nothing_else(app, client, runner, platforms,
                                                                             platform, auth, clock):
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym, kind="blacklist", reason_code="terrorism",
                    expires_at=rfc3339(clock.now() + timedelta(days=30)))
    chat = platforms.create("chat", max_accounts_per_person=2)
    other = platforms.headers(chat)
    elsewhere = register(client, other)  # before widening, the chat platform is not covered

    result = _admin(runner, "blacklist-global", sanction["id"], "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"id": sanction["id"], "kind": "blacklist", "scope": "global",
                                         "changed": True, "expires_at": sanction["expires_at"]}

    refused = client.post("/v1/registrations", json=registration(), headers=other)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "registration_refused")
    detail = refused.get_json()["detail"]
    assert sanction["expires_at"] in detail
    for secret in (platform, "terrorism", "illegal", sanction["id"], pseudonym):
        assert secret not in json.dumps(refused.get_json())
    account = client.get(f"/v1/accounts/{elsewhere}", headers=other).get_json()
    assert (account["status"], account["restrictions"]) == ("active", [])
    assert client.get(f"/v1/sanctions/{sanction['id']}", headers=other).status_code == 404
    assert client.get(f"/v1/sanctions/{sanction['id']}", headers=auth).get_json()["scope"] == "global"
    assert _events(app, "sanction.widened") == [(sanction["id"], {
        "platform": platform, "kind": "blacklist", "scope": "global", "changed": True})]
    assert _events(app, "registration.refused") == [(sanction["id"], {"platform": chat})]


def test_a_global_blacklist_ends_with_its_lift(client, runner, platforms, auth, clock):
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym, kind="blacklist")
    assert _admin(runner, "blacklist-global", sanction["id"]).exit_code == 0
    other = platforms.headers(platforms.create("chat"))
    assert client.post("/v1/registrations", json=registration(), headers=other).status_code == 403
    client.post(f"/v1/sanctions/{sanction['id']}/lift", json={"reason": "appeal upheld"}, headers=auth)
    assert client.post("/v1/registrations", json=registration(), headers=other).status_code == 201


def test_widening_twice_changes_nothing(client, runner, auth, clock):
    sanction = file(client, auth, register(client, auth), kind="blacklist")
    assert _admin(runner, "blacklist-global", sanction["id"]).exit_code == 0
    again = _admin(runner, "blacklist-global", sanction["id"], "--json")
    assert again.exit_code == 0 and json.loads(again.output)["changed"] is False


@pytest.mark.parametrize("case", ["unknown", "malformed", "posting_ban", "lifted"])
def test_widening_refuses_with_one_line(client, runner, auth, clock, case):
    sanction_id = {"unknown": "snc_" + "0" * 26, "malformed": "nope"}.get(case)
    if sanction_id is None:
        kind = "posting_ban" if case == "posting_ban" else "blacklist"
        sanction_id = file(client, auth, register(client, auth), kind=kind)["id"]
        if case == "lifted":
            client.post(f"/v1/sanctions/{sanction_id}/lift", json={"reason": "ok"}, headers=auth)
    result = _admin(runner, "blacklist-global", sanction_id)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    as_json = _admin(runner, "blacklist-global", sanction_id, "--json")
    assert as_json.exit_code == 1 and set(json.loads(as_json.output)) == {"error"}


def test_purge_erases_only_traces_whose_sanctions_ended(app, client, runner, auth, clock):
    ending, lasting = register(client, auth, sequence=1), register(client, auth, sequence=2)
    file(client, auth, ending, kind="blacklist", expires_at=rfc3339(clock.now() + timedelta(days=1)))
    file(client, auth, lasting, kind="posting_ban", expires_at=rfc3339(clock.now() + timedelta(days=10)))
    for pseudonym in (ending, lasting):
        assert client.delete(f"/v1/accounts/{pseudonym}", headers=auth).status_code == 204
    clock.advance(days=2)
    result = _admin(runner, "purge-expired", "--json", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"erased": 1, "examined": 1}
    assert person_of(app, ending).state == "erased" and person_of(app, ending).dek_wrapped is None
    assert person_of(app, lasting).state == "sanction_trace"
    assert _events(app, "sanction_traces.purged")[-1][1] == {"examined": 1, "erased": 1}
    clock.advance(days=10)
    assert "erased 1 trace" in _admin(runner, "purge-expired").stdout
    assert person_of(app, lasting).state == "erased"
    assert _admin(runner, "purge-expired", "--json").stdout.strip() == '{"erased": 0, "examined": 0}'
