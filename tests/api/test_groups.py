"""Groups through the API: founding within the per-person limits, managers, closure and what it
costs the founder and managers, credit, isolation, idempotency and the audit log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from identity.clock import rfc3339
from identity.models import AuditEvent
from tests.support.groups import (
    account,
    add_manager,
    close,
    found,
    headers,
    introspected_scope,
    new_token,
    token_scope,
)
from tests.support.people import register, registration, resident_id
from tests.support.sanctions import file

ALL_RIGHTS = {"post", "group:create", "group:manage"}


@pytest.fixture
def auth(platforms, platform) -> dict[str, str]:
    return headers(platforms, platform)


def _sanctions(client, auth, pseudonym):
    response = client.get("/v1/sanctions", query_string={"pseudonym": pseudonym}, headers=auth)
    assert response.status_code == 200
    return response.get_json()["items"]


def _audit(app, action):
    from identity.extensions import db

    with app.app_context():
        return [(e.subject, json.loads(e.details)) for e in
                db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


def _refused(response):
    assert (response.status_code, response.get_json()["code"]) == (403, "group_creation_refused"), response.get_json()
    return response.get_json()


# --- founding and reading ---------------------------------------------------------------------

def test_founding_answers_the_group_with_its_location(client, auth, clock):
    founder = register(client, auth)
    response = client.post("/v1/groups", json={"founder": founder, "external_ref": "group-9"}, headers=auth)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"].startswith("grp_") and len(body["id"]) == 30
    assert response.headers["Location"] == f"/v1/groups/{body['id']}"
    assert body == {"id": body["id"], "founder": founder, "managers": [], "status": "active",
                    "external_ref": "group-9", "created_at": rfc3339(clock.now()), "closed_at": None,
                    "closure": None}
    assert client.get(response.headers["Location"], headers=auth).get_json() == body
    clock.advance(minutes=1)
    newer = found(client, auth, founder)
    listed = client.get("/v1/groups", query_string={"founder": founder}, headers=auth)
    assert [g["id"] for g in listed.get_json()["items"]] == [newer["id"], body["id"]]


def test_a_person_with_two_accounts_reaches_the_limit_over_both(client, platforms, clock):
    platform = platforms.create(max_accounts_per_person=2, max_groups_per_person=1)
    auth = headers(platforms, platform)
    first, second = register(client, auth), register(client, auth)
    other_person = register(client, auth, sequence=2)
    found(client, auth, first)
    refused = _refused(client.post("/v1/groups", json={"founder": second}, headers=auth))
    assert "maximum number of open groups" in refused["detail"]
    found(client, auth, other_person)  # someone else is not counted with them
    # The refused founding left nothing behind, and the platform sees only the account's own groups.
    assert client.get("/v1/groups", query_string={"founder": second}, headers=auth).get_json() == {"items": []}


def test_another_platforms_groups_do_not_count(client, platforms, clock):
    auth = headers(platforms, platforms.create(max_groups_per_person=1))
    other = headers(platforms, platforms.create(max_groups_per_person=1))
    found(client, other, register(client, other))  # the same person founds one elsewhere
    found(client, auth, register(client, auth))


def test_a_closed_group_frees_its_place_under_the_limit(client, platforms, clock):
    auth = headers(platforms, platforms.create(max_groups_per_person=1, credit_penalty=0))
    founder = register(client, auth)
    group = found(client, auth, founder)
    _refused(client.post("/v1/groups", json={"founder": founder}, headers=auth))
    close(client, auth, group["id"])
    # The closure suspended the founder: lift it, and the closed group no longer counts.
    for sanction in _sanctions(client, auth, founder):
        assert client.post(f"/v1/sanctions/{sanction['id']}/lift", json={"reason": "appeal upheld"},
                           headers=auth).status_code == 200
    found(client, auth, founder)


def test_a_suspended_person_may_not_found_a_group(client, auth, clock):
    founder = register(client, auth)
    file(client, auth, founder, kind="group_management_suspension")
    refused = _refused(client.post("/v1/groups", json={"founder": founder}, headers=auth))
    assert "sanction" in refused["detail"]


def test_a_closed_account_may_not_found_a_group(client, auth, clock):
    founder = register(client, auth)
    assert client.delete(f"/v1/accounts/{founder}", headers=auth).status_code == 204
    _refused(client.post("/v1/groups", json={"founder": founder}, headers=auth))


def test_refusals_are_audited_without_the_accounts(app, client, platforms, clock):
    auth = headers(platforms, platforms.create(max_groups_per_person=1))
    founder = register(client, auth)
    found(client, auth, founder)
    _refused(client.post("/v1/groups", json={"founder": founder}, headers=auth))
    [(subject, details)] = _audit(app, "group.creation_refused")
    assert subject is None and details["reason"] == "group_limit"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "founder"),
    ({"founder": "psn_x", "colour": "red"}, "colour"),
    ({"founder": 42}, "founder"),
    ({"founder": "psn_x", "external_ref": "x" * 129}, "external_ref"),
])
def test_an_invalid_founding_is_refused(client, auth, clock, body, field):
    response = client.post("/v1/groups", json=body, headers=auth)
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_failed")
    assert field in response.get_json()["errors"]


def test_group_routes_need_the_group_scopes(client, platforms, platform, clock):
    full = headers(platforms, platform)
    founder = register(client, full)
    group = found(client, full, founder)
    reader = platforms.headers(platform, ("groups:read",))
    writer = platforms.headers(platform, ("groups:write",))
    assert client.get(f"/v1/groups/{group['id']}", headers=reader).status_code == 200
    assert client.post("/v1/groups", json={"founder": founder}, headers=reader).get_json()["code"] == "forbidden"
    assert client.get(f"/v1/groups/{group['id']}", headers=writer).get_json()["code"] == "forbidden"
    assert client.post(f"/v1/groups/{group['id']}/closure", json={"reason_code": "spam", "evidence_ref": "r"},
                       headers=reader).status_code == 403


# --- closure ------------------------------------------------------------------------------------

def test_closing_a_group_holds_its_founder_and_managers_to_account(client, platforms, clock):
    auth = headers(platforms, platforms.create(max_accounts_per_person=2))
    founder, founders_other = register(client, auth), register(client, auth)
    manager, bystander = register(client, auth, sequence=2), register(client, auth, sequence=3)
    group = found(client, auth, founder)
    add_manager(client, auth, group["id"], manager)
    earlier = {p: new_token(client, auth, p) for p in (founder, founders_other, manager, bystander)}
    assert all(token_scope(t) == ALL_RIGHTS for t in earlier.values())

    clock.advance(minutes=1)
    closed = close(client, auth, group["id"])
    assert (closed["status"], closed["closed_at"]) == ("closed", rfc3339(clock.now()))
    assert closed["closure"] == {"reason_code": "illegal_content", "evidence_ref": "report-77"}
    assert client.get(f"/v1/groups/{group['id']}", headers=auth).get_json() == closed

    # The founder's credit drops on every account of theirs here; nobody else's does.
    for pseudonym in (founder, founders_other):
        assert account(client, auth, pseudonym)["credit"] == {"score": 80, "level": "B"}
    for pseudonym in (manager, bystander):
        assert account(client, auth, pseudonym)["credit"] == {"score": 100, "level": "A"}

    # Founder and manager are suspended, visible in the sanctions API with the group's id.
    suspended_until = rfc3339(clock.now() + timedelta(days=180))
    for pseudonym in (founder, manager):
        [sanction] = _sanctions(client, auth, pseudonym)
        assert (sanction["kind"], sanction["reason_code"], sanction["evidence_ref"], sanction["group_id"],
                sanction["expires_at"], sanction["pseudonym"]) == (
            "group_management_suspension", "illegal_content", "report-77", group["id"], suspended_until, pseudonym)
        assert account(client, auth, pseudonym)["status"] == "restricted"

    # At once, in introspection of tokens issued before and in new tokens.
    for pseudonym in (founder, founders_other, manager):
        assert introspected_scope(client, auth, earlier[pseudonym]) == {"post"}
        assert token_scope(new_token(client, auth, pseudonym)) == {"post"}
    assert introspected_scope(client, auth, earlier[bystander]) == ALL_RIGHTS
    _refused(client.post("/v1/groups", json={"founder": founders_other}, headers=auth))


def test_a_founder_who_is_also_a_manager_is_suspended_once(client, platforms, clock):
    auth = headers(platforms, platforms.create(max_accounts_per_person=2))
    founder, other = register(client, auth), register(client, auth)
    group = found(client, auth, founder)
    add_manager(client, auth, group["id"], other)
    close(client, auth, group["id"])
    assert [s["kind"] for s in _sanctions(client, auth, founder)] == ["group_management_suspension"]


def test_a_founder_whose_score_falls_under_the_threshold_is_blacklisted(client, platforms, clock):
    auth = headers(platforms, platforms.create(credit_penalty=35, credit_penalty_days=100, suspension_days=30))
    other = headers(platforms, platforms.create())
    founder = register(client, auth)
    first = found(client, auth, founder)
    second = found(client, auth, founder)
    close(client, auth, first["id"])
    assert [s["kind"] for s in _sanctions(client, auth, founder)] == ["group_management_suspension"]
    clock.advance(days=10)
    close(client, auth, second["id"])
    assert account(client, auth, founder)["credit"] == {"score": 30, "level": "D"}
    kinds = {s["kind"]: s for s in _sanctions(client, auth, founder)}
    # 30 is under 40 until the first penalty expires (day 100): the score is 65 from then on.
    assert kinds["blacklist"]["group_id"] == second["id"]
    assert kinds["blacklist"]["expires_at"] == rfc3339(clock.now() + timedelta(days=90))
    # Barred from posting, and from registering again on this platform; not elsewhere.
    assert client.post("/v1/tokens", json={"pseudonym": founder}, headers=auth).status_code == 403
    assert client.delete(f"/v1/accounts/{founder}", headers=auth).status_code == 204
    again = client.post("/v1/registrations", json=registration(), headers=auth)
    assert (again.status_code, again.get_json()["code"]) == (403, "registration_refused")
    assert client.post("/v1/registrations", json=registration(), headers=other).status_code == 201


def test_lifting_a_closures_sanctions_does_not_restore_the_score(client, auth, clock):
    founder = register(client, auth)
    close(client, auth, found(client, auth, founder)["id"])
    for sanction in _sanctions(client, auth, founder):
        assert client.post(f"/v1/sanctions/{sanction['id']}/lift", json={"reason": "appeal upheld"},
                           headers=auth).status_code == 200
    body = account(client, auth, founder)
    assert (body["status"], body["credit"]) == ("active", {"score": 80, "level": "B"})


def test_a_penalty_stops_counting_by_itself(client, platforms, clock):
    # Under 90 a person may not found here, so one penalty (80) removes `group:create`.
    auth = headers(platforms, platforms.create(min_credit_to_found=90, credit_penalty_days=30, suspension_days=1))
    founder = register(client, auth)
    close(client, auth, found(client, auth, founder)["id"])
    clock.advance(days=1)  # the suspension is over; the credit is still low
    token = new_token(client, auth, founder)
    assert token_scope(token) == {"post", "group:manage"}
    assert introspected_scope(client, auth, token) == {"post", "group:manage"}
    refused = _refused(client.post("/v1/groups", json={"founder": founder}, headers=auth))
    assert "credit score" in refused["detail"]
    clock.advance(days=29, seconds=-60)
    assert account(client, auth, founder)["credit"] == {"score": 80, "level": "B"}
    token = new_token(client, auth, founder)
    assert introspected_scope(client, auth, token) == {"post", "group:manage"}
    clock.advance(seconds=60)  # no job runs: the penalty is simply no longer counted
    assert account(client, auth, founder)["credit"] == {"score": 100, "level": "A"}
    assert introspected_scope(client, auth, token) == ALL_RIGHTS
    assert token_scope(new_token(client, auth, founder)) == ALL_RIGHTS
    found(client, auth, founder)


@pytest.mark.parametrize(("score_after", "level"), [(90, "A"), (70, "B"), (50, "C"), (49, "D")])
def test_credit_levels(client, platforms, clock, score_after, level):
    auth = headers(platforms, platforms.create(credit_penalty=100 - score_after, blacklist_below=0,
                                               min_credit_to_found=0))
    founder = register(client, auth)
    close(client, auth, found(client, auth, founder)["id"])
    assert account(client, auth, founder)["credit"] == {"score": score_after, "level": level}


def test_closing_a_closed_group_is_a_conflict_and_changes_nothing(client, auth, clock):
    founder = register(client, auth)
    group = found(client, auth, founder)
    close(client, auth, group["id"])
    again = client.post(f"/v1/groups/{group['id']}/closure", json={"reason_code": "spam", "evidence_ref": "r"},
                        headers=auth)
    assert (again.status_code, again.get_json()["code"]) == (409, "conflict")
    assert account(client, auth, founder)["credit"]["score"] == 80
    assert len(_sanctions(client, auth, founder)) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"reason_code": "rudeness", "evidence_ref": "r"}, "reason_code"),
    ({"reason_code": "spam"}, "evidence_ref"),
    ({"reason_code": "spam", "evidence_ref": "r", "note": "x"}, "note"),
])
def test_an_invalid_closure_is_refused_and_changes_nothing(client, auth, clock, body, field):
    founder = register(client, auth)
    group = found(client, auth, founder)
    response = client.post(f"/v1/groups/{group['id']}/closure", json=body, headers=auth)
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_failed")
    assert field in response.get_json()["errors"]
    assert client.get(f"/v1/groups/{group['id']}", headers=auth).get_json()["status"] == "active"


# --- managers ------------------------------------------------------------------------------------

def test_managers_are_added_and_removed(app, client, auth, clock):
    founder, manager = register(client, auth), register(client, auth, sequence=2)
    group = found(client, auth, founder)
    assert add_manager(client, auth, group["id"], manager)["managers"] == [manager]
    assert add_manager(client, auth, group["id"], manager)["managers"] == [manager]  # twice: no change
    removed = client.delete(f"/v1/groups/{group['id']}/managers/{manager}", headers=auth)
    assert removed.status_code == 204
    assert client.get(f"/v1/groups/{group['id']}", headers=auth).get_json()["managers"] == []
    again = client.delete(f"/v1/groups/{group['id']}/managers/{manager}", headers=auth)
    assert (again.status_code, again.get_json()["code"]) == (404, "not_found")
    assert [d["manager"] for _, d in _audit(app, "group.manager_added")] == [manager]
    assert [d["manager"] for _, d in _audit(app, "group.manager_removed")] == [manager]


def test_a_suspended_person_may_not_become_a_manager(client, auth, clock):
    founder, manager = register(client, auth), register(client, auth, sequence=2)
    group = found(client, auth, founder)
    file(client, auth, manager, kind="group_management_suspension")
    refused = client.post(f"/v1/groups/{group['id']}/managers", json={"pseudonym": manager}, headers=auth)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "group_management_refused")
    assert client.get(f"/v1/groups/{group['id']}", headers=auth).get_json()["managers"] == []


def test_a_closed_groups_managers_do_not_change(client, auth, clock):
    founder, manager = register(client, auth), register(client, auth, sequence=2)
    group = found(client, auth, founder)
    close(client, auth, group["id"])
    added = client.post(f"/v1/groups/{group['id']}/managers", json={"pseudonym": manager}, headers=auth)
    assert (added.status_code, added.get_json()["code"]) == (409, "conflict")


def test_the_founder_is_not_added_as_a_manager(client, auth, clock):
    founder = register(client, auth)
    group = found(client, auth, founder)
    response = client.post(f"/v1/groups/{group['id']}/managers", json={"pseudonym": founder}, headers=auth)
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_failed")


# --- isolation and idempotency -------------------------------------------------------------------

def test_another_platforms_group_and_founder_answer_as_if_they_did_not_exist(client, platforms, auth, clock):
    founder = register(client, auth)
    group = found(client, auth, founder)
    other = headers(platforms, platforms.create("chat"))
    theirs = register(client, other)  # the same person, on another platform
    unknown_group, unknown_founder = "grp_" + "0" * 26, "psn_" + "0" * 26
    answers = []
    for group_id, pseudonym in ((group["id"], founder), (unknown_group, unknown_founder)):
        for response in (
            client.get(f"/v1/groups/{group_id}", headers=other),
            client.post(f"/v1/groups/{group_id}/closure", json={"reason_code": "spam", "evidence_ref": "r"},
                        headers=other),
            client.post(f"/v1/groups/{group_id}/managers", json={"pseudonym": theirs}, headers=other),
            client.delete(f"/v1/groups/{group_id}/managers/{theirs}", headers=other),
            client.post("/v1/groups", json={"founder": pseudonym}, headers=other),
            client.get("/v1/groups", query_string={"founder": pseudonym}, headers=other),
        ):
            assert response.status_code == 404
            answers.append(response.get_json())
    half = len(answers) // 2
    assert answers[:half] == answers[half:]
    # Nor can a platform make another platform's account a manager of its own group.
    own = found(client, other, theirs)
    response = client.post(f"/v1/groups/{own['id']}/managers", json={"pseudonym": founder}, headers=other)
    assert response.status_code == 404
    assert client.get(f"/v1/groups/{group['id']}", headers=auth).get_json()["status"] == "active"


def test_the_same_idempotency_key_founds_and_closes_once(client, platforms, clock):
    auth = headers(platforms, platforms.create(max_groups_per_person=2))
    founder = register(client, auth)
    keyed = {**auth, "Idempotency-Key": "found-1"}
    first = client.post("/v1/groups", json={"founder": founder}, headers=keyed)
    again = client.post("/v1/groups", json={"founder": founder}, headers=keyed)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/v1/groups", query_string={"founder": founder}, headers=auth).get_json()["items"]) == 1
    reused = client.post("/v1/groups", json={"founder": founder, "external_ref": "x"}, headers=keyed)
    assert (reused.status_code, reused.get_json()["code"]) == (422, "idempotency_key_reused")

    group_id = first.get_json()["id"]
    closed = close(client, auth, group_id, **{"Idempotency-Key": "close-1"})
    assert close(client, auth, group_id, **{"Idempotency-Key": "close-1"}) == closed
    assert account(client, auth, founder)["credit"]["score"] == 80  # one penalty, not two
    assert len(_sanctions(client, auth, founder)) == 1


# --- what is kept, and the audit log --------------------------------------------------------------

def test_a_counting_penalty_keeps_a_trace_that_registering_again_finds(app, client, platforms, clock):
    from tests.support.sanctions import person_of

    auth = headers(platforms, platforms.create(credit_penalty_days=30, suspension_days=1))
    founder = register(client, auth)
    close(client, auth, found(client, auth, founder)["id"])
    clock.advance(days=2)  # the suspension has ended; only the penalty counts
    assert client.delete(f"/v1/accounts/{founder}", headers=auth).status_code == 204
    trace = person_of(app, founder)
    assert trace.state == "sanction_trace" and trace.name_ct is None and trace.doc_index is not None
    again = client.post("/v1/registrations", json=registration(), headers=auth)
    assert again.status_code == 201
    assert again.get_json()["credit"] == {"score": 80, "level": "B"}  # a new account does not reset it
    assert client.delete(f"/v1/accounts/{again.get_json()['pseudonym']}", headers=auth).status_code == 204
    clock.advance(days=28)  # the penalty has stopped counting: the purge erases the trace
    result = app.test_cli_runner().invoke(args=["admin", "sanctions", "purge-expired", "--json"])
    assert result.exit_code == 0, result.output
    assert person_of(app, founder).state == "erased"


def test_a_person_without_penalty_or_sanction_is_still_erased(app, client, auth, clock):
    from tests.support.sanctions import person_of

    founder = register(client, auth)
    found(client, auth, founder)
    assert client.delete(f"/v1/accounts/{founder}", headers=auth).status_code == 204
    assert person_of(app, founder).state == "erased"


def test_every_change_is_audited_without_personal_data(app, client, auth, clock):
    number = resident_id(sequence=7)
    founder = register(client, auth, number=number)
    manager = register(client, auth, sequence=2)
    group = found(client, auth, founder)
    add_manager(client, auth, group["id"], manager)
    close(client, auth, group["id"])
    [(subject, created)] = _audit(app, "group.created")
    assert subject == group["id"] and created["founder"] == founder
    [(subject, closed)] = _audit(app, "group.closed")
    assert subject == group["id"] and closed["reason_code"] == "illegal_content" and closed["credit_score"] == 80
    filed = _audit(app, "sanction.filed")
    assert sorted(closed["sanctions"]) == sorted(s for s, _ in filed)
    from identity.extensions import db

    with app.app_context():
        logged = " ".join(f"{e.subject} {e.details}" for e in db.session.scalars(select(AuditEvent)))
    assert number not in logged and "张三" not in logged and "\\u5f20" not in logged


def test_the_openapi_document_describes_the_group_routes(client):
    spec = client.get("/openapi.json").get_json()
    for path in ("/v1/groups", "/v1/groups/{group_id}", "/v1/groups/{group_id}/managers",
                 "/v1/groups/{group_id}/managers/{pseudonym}", "/v1/groups/{group_id}/closure"):
        assert path in spec["paths"], path
    assert "credit" in spec["components"]["schemas"]["Account"]["properties"]
    assert "group_id" in spec["components"]["schemas"]["Sanction"]["properties"]


def test_a_group_whose_founder_was_erased_still_closes_and_binds_its_managers(app, client, auth, clock):
    from tests.support.sanctions import person_of

    founder, manager = register(client, auth), register(client, auth, sequence=2)
    group = found(client, auth, founder)
    add_manager(client, auth, group["id"], manager)
    assert client.delete(f"/v1/accounts/{founder}", headers=auth).status_code == 204
    assert person_of(app, founder).state == "erased"  # nothing kept them: no sanction, no penalty
    assert close(client, auth, group["id"])["status"] == "closed"
    assert [s["kind"] for s in _sanctions(client, auth, manager)] == ["group_management_suspension"]
    assert _sanctions(client, auth, founder) == []
    assert person_of(app, founder).state == "erased"
