"""Sanctions through the API: filing, their effect on accounts, expiry, lifting, history, isolation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from identity.clock import rfc3339
from identity.models import AuditEvent, CacheEpoch
from tests.support.people import register, resident_id
from tests.support.sanctions import file

READ_ONLY = ("sanctions:read", "accounts:read")


def _account(client, auth, pseudonym):
    response = client.get(f"/v1/accounts/{pseudonym}", headers=auth)
    assert response.status_code == 200
    return response.get_json()


def _access_epoch(app) -> int:
    from identity.extensions import db

    with app.app_context():
        return int(db.session.scalar(select(CacheEpoch.counter).where(CacheEpoch.topic == "access")))


def test_filing_answers_the_sanction_with_its_location(client, auth, clock):
    pseudonym = register(client, auth)
    expires = rfc3339(clock.now() + timedelta(days=30))
    response = client.post("/v1/sanctions", headers=auth, json={
        "pseudonym": pseudonym, "kind": "posting_ban", "reason_code": "spam", "evidence_ref": "report-1",
        "expires_at": expires})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/v1/sanctions/{body['id']}"
    assert body["id"].startswith("snc_")
    assert body == {"id": body["id"], "pseudonym": pseudonym, "kind": "posting_ban", "reason_code": "spam",
                    "evidence_ref": "report-1", "status": "active", "created_at": rfc3339(clock.now()),
                    "expires_at": expires, "lifted_at": None, "lift_reason": None, "scope": "platform"}
    assert client.get(response.headers["Location"], headers=auth).get_json() == body


def test_a_sanction_restricts_every_account_of_the_person_on_the_platform(client, platforms, clock):
    platform = platforms.create(max_accounts_per_person=2)
    auth = platforms.headers(platform)
    first, second = register(client, auth), register(client, auth)
    other = register(client, auth, sequence=2)  # another person
    sanction = file(client, auth, first, kind="group_management_suspension")
    for pseudonym in (first, second):
        account = _account(client, auth, pseudonym)
        assert account["status"] == "restricted"
        assert account["restrictions"] == [{"sanction_id": sanction["id"], "kind": "group_management_suspension",
                                            "expires_at": None}]
    assert _account(client, auth, other)["status"] == "active"


def test_history_lists_the_persons_sanctions_on_this_platform_newest_first(client, platforms, clock):
    platform = platforms.create(max_accounts_per_person=2)
    auth = platforms.headers(platform)
    first, second = register(client, auth), register(client, auth)
    expiring = file(client, auth, first, expires_at=rfc3339(clock.now() + timedelta(hours=1)))
    clock.advance(minutes=1)
    lifted = file(client, auth, second, kind="blacklist")
    assert client.post(f"/v1/sanctions/{lifted['id']}/lift", json={"reason": "appeal upheld"},
                       headers=auth).status_code == 200
    clock.advance(minutes=1)
    current = file(client, auth, first, kind="group_management_suspension")
    clock.advance(hours=2)
    for pseudonym in (first, second):
        listed = client.get("/v1/sanctions", query_string={"pseudonym": pseudonym}, headers=auth)
        assert listed.status_code == 200
        items = listed.get_json()["items"]
        assert [(s["id"], s["status"]) for s in items] == [
            (current["id"], "active"), (lifted["id"], "lifted"), (expiring["id"], "expired")]
        assert [s["pseudonym"] for s in items] == [first, second, first]


def test_a_sanction_expires_by_itself(client, auth, clock):
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym, expires_at=rfc3339(clock.now() + timedelta(days=1)))
    clock.advance(days=1, seconds=-1)
    assert _account(client, auth, pseudonym)["status"] == "restricted"
    clock.advance(seconds=1)
    account = _account(client, auth, pseudonym)
    assert (account["status"], account["restrictions"]) == ("active", [])
    assert client.get(f"/v1/sanctions/{sanction['id']}", headers=auth).get_json()["status"] == "expired"


def test_lifting_ends_the_sanction_and_keeps_its_history(client, auth, clock):
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym)
    clock.advance(minutes=5)
    lifted = client.post(f"/v1/sanctions/{sanction['id']}/lift", json={"reason": "appeal upheld"}, headers=auth)
    assert lifted.status_code == 200, lifted.get_json()
    body = lifted.get_json()
    assert (body["status"], body["lifted_at"], body["lift_reason"]) == ("lifted", rfc3339(clock.now()),
                                                                       "appeal upheld")
    assert client.get(f"/v1/sanctions/{sanction['id']}", headers=auth).get_json() == body
    assert _account(client, auth, pseudonym)["status"] == "active"


def test_lifting_an_ended_sanction_is_a_conflict(client, auth, clock):
    pseudonym = register(client, auth)
    lifted = file(client, auth, pseudonym)
    client.post(f"/v1/sanctions/{lifted['id']}/lift", json={"reason": "appeal upheld"}, headers=auth)
    again = client.post(f"/v1/sanctions/{lifted['id']}/lift", json={"reason": "twice"}, headers=auth)
    assert (again.status_code, again.get_json()["code"]) == (409, "conflict")
    expired = file(client, auth, pseudonym, expires_at=rfc3339(clock.now() + timedelta(hours=1)))
    clock.advance(hours=1)
    late = client.post(f"/v1/sanctions/{expired['id']}/lift", json={"reason": "late"}, headers=auth)
    assert (late.status_code, late.get_json()["code"]) == (409, "conflict")
    assert client.get(f"/v1/sanctions/{lifted['id']}", headers=auth).get_json()["lift_reason"] == "appeal upheld"


def test_lift_needs_a_reason(client, auth, clock):
    sanction = file(client, auth, register(client, auth))
    response = client.post(f"/v1/sanctions/{sanction['id']}/lift", json={}, headers=auth)
    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]


def test_another_platforms_sanctions_answer_as_if_they_did_not_exist(client, platforms, auth, clock):
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym, kind="blacklist")
    other = platforms.headers(platforms.create("chat"))
    theirs = register(client, other)  # the same person, on another platform
    assert _account(client, other, theirs) == {**_account(client, other, theirs), "status": "active",
                                                "restrictions": []}
    unknown = "snc_" + "0" * 26
    for sanction_id in (sanction["id"], unknown):
        read = client.get(f"/v1/sanctions/{sanction_id}", headers=other)
        lift = client.post(f"/v1/sanctions/{sanction_id}/lift", json={"reason": "x"}, headers=other)
        assert (read.status_code, read.get_json()["code"]) == (404, "not_found")
        assert (lift.status_code, lift.get_json()["code"]) == (404, "not_found")
        assert read.get_json()["detail"] == lift.get_json()["detail"]
    listed = client.get("/v1/sanctions", query_string={"pseudonym": pseudonym}, headers=other)
    assert listed.status_code == 404
    filed = client.post("/v1/sanctions", headers=other, json={
        "pseudonym": pseudonym, "kind": "posting_ban", "reason_code": "spam", "evidence_ref": "r"})
    assert (filed.status_code, filed.get_json()["code"]) == (404, "not_found")
    assert client.get("/v1/sanctions", query_string={"pseudonym": theirs}, headers=other).get_json() == {"items": []}
    assert client.get(f"/v1/sanctions/{sanction['id']}", headers=auth).status_code == 200


@pytest.mark.parametrize(("change", "field"), [
    ({"colour": "red"}, "colour"),
    ({"reason_code": "rudeness"}, "reason_code"),
    ({"kind": "shadow_ban"}, "kind"),
    ({"evidence_ref": None}, "evidence_ref"),
    ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    ({"expires_at": "tomorrow"}, "expires_at"),
])
def test_an_invalid_filing_is_refused_and_stores_nothing(client, auth, clock, change, field):
    pseudonym = register(client, auth)
    body = {"pseudonym": pseudonym, "kind": "posting_ban", "reason_code": "spam", "evidence_ref": "r", **change}
    response = client.post("/v1/sanctions", json=body, headers=auth)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["code"] == "validation_failed"
    assert field in response.get_json()["errors"]
    assert client.get("/v1/sanctions", query_string={"pseudonym": pseudonym}, headers=auth).get_json() == {"items": []}


def test_expires_at_now_is_already_past(client, auth, clock):
    body = {"pseudonym": register(client, auth), "kind": "posting_ban", "reason_code": "spam", "evidence_ref": "r",
            "expires_at": rfc3339(clock.now())}
    assert client.post("/v1/sanctions", json=body, headers=auth).status_code == 422


def test_filing_needs_the_write_scope(client, platforms, platform, auth, clock):
    pseudonym = register(client, auth)
    reader = platforms.headers(platform, READ_ONLY)
    body = {"pseudonym": pseudonym, "kind": "posting_ban", "reason_code": "spam", "evidence_ref": "r"}
    assert client.post("/v1/sanctions", json=body, headers=reader).status_code == 403
    assert client.get("/v1/sanctions", query_string={"pseudonym": pseudonym}, headers=reader).status_code == 200
    writer_only = platforms.headers(platform, ("sanctions:write",))
    assert client.get("/v1/sanctions", query_string={"pseudonym": pseudonym}, headers=writer_only).status_code == 403


def test_the_same_idempotency_key_files_once(client, auth, clock):
    pseudonym = register(client, auth)
    body = {"pseudonym": pseudonym, "kind": "posting_ban", "reason_code": "spam", "evidence_ref": "r"}
    headers = {**auth, "Idempotency-Key": "file-1"}
    first = client.post("/v1/sanctions", json=body, headers=headers)
    again = client.post("/v1/sanctions", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert len(client.get("/v1/sanctions", query_string={"pseudonym": pseudonym}, headers=auth)
               .get_json()["items"]) == 1
    reused = client.post("/v1/sanctions", json={**body, "kind": "blacklist"}, headers=headers)
    assert (reused.status_code, reused.get_json()["code"]) == (422, "idempotency_key_reused")


def test_every_sanction_change_bumps_the_access_epoch(app, client, auth, clock):
    pseudonym = register(client, auth)
    before = _access_epoch(app)
    sanction = file(client, auth, pseudonym)
    assert _access_epoch(app) == before + 1
    client.post(f"/v1/sanctions/{sanction['id']}/lift", json={"reason": "ok"}, headers=auth)
    assert _access_epoch(app) == before + 2


def test_filing_and_lifting_are_audited_without_personal_data(app, client, auth, platform, clock):
    number = resident_id(sequence=7)
    pseudonym = register(client, auth, number=number)
    sanction = file(client, auth, pseudonym, kind="blacklist")
    client.post(f"/v1/sanctions/{sanction['id']}/lift", json={"reason": "appeal upheld"}, headers=auth)
    from identity.extensions import db

    with app.app_context():
        events = {e.action: e for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.subject == sanction["id"]))}
    assert set(events) == {"sanction.filed", "sanction.lifted"}
    assert json.loads(events["sanction.filed"].details) == {"platform": platform, "kind": "blacklist",
                                                           "reason_code": "illegal_content", "expires_at": None}
    for event in events.values():
        assert event.actor == f"platform:{platform}"
        assert number not in event.details and "张三" not in event.details and pseudonym not in event.details
        assert "appeal" not in event.details


def test_the_openapi_document_describes_sanctions(client):
    spec = client.get("/openapi.json").get_json()
    assert {"/v1/sanctions", "/v1/sanctions/{sanction_id}", "/v1/sanctions/{sanction_id}/lift"} <= set(spec["paths"])
    filing = spec["components"]["schemas"]["SanctionFiling"]
    assert set(filing["required"]) == {"pseudonym", "kind", "reason_code", "evidence_ref"}
    assert "409" in spec["paths"]["/v1/sanctions/{sanction_id}/lift"]["post"]["responses"]
