"""What a sanction keeps of a person with no open account, and how it follows them back."""

from __future__ import annotations

from datetime import timedelta

from identity.clock import rfc3339
from tests.support.people import register, registration
from tests.support.sanctions import file, person_of


def _close(client, auth, pseudonym):
    assert client.delete(f"/v1/accounts/{pseudonym}", headers=auth).status_code == 204


def _assert_trace(person):
    assert person.state == "sanction_trace"
    assert None not in (person.doc_index, person.doc_index_version, person.dek_wrapped, person.dek_version,
                        person.document_ct)
    assert (person.name_ct, person.phone_ct, person.birth_date_ct) == (None, None, None)


def _assert_erased(person):
    assert person.state == "erased" and person.erased_at is not None
    assert (person.doc_index, person.doc_index_version, person.dek_wrapped, person.dek_version, person.name_ct,
            person.document_ct, person.phone_ct, person.birth_date_ct) == (None,) * 8


def test_blacklisted_person_cannot_register_again_after_closing(app, client, auth, clock):
    pseudonym = register(client, auth)
    ends = clock.now() + timedelta(days=90)
    file(client, auth, pseudonym, kind="blacklist", expires_at=rfc3339(ends))
    _close(client, auth, pseudonym)
    _assert_trace(person_of(app, pseudonym))
    refused = client.post("/v1/registrations", json=registration(), headers=auth)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "registration_refused")
    assert rfc3339(ends) in refused.get_json()["detail"]


def test_an_indefinite_blacklist_says_it_has_no_end(client, auth, clock):
    pseudonym = register(client, auth)
    file(client, auth, pseudonym, kind="blacklist")
    _close(client, auth, pseudonym)
    refused = client.post("/v1/registrations", json=registration(), headers=auth)
    assert refused.status_code == 403 and "no end date" in refused.get_json()["detail"]


def test_a_trace_keeps_only_the_index_and_the_encrypted_document(app, client, platforms, clock):
    auth = platforms.headers(platforms.create(phone="optional"))
    pseudonym = register(client, auth, phone="+8613800138000")
    before = person_of(app, pseudonym)
    assert before.phone_ct is not None
    file(client, auth, pseudonym, kind="blacklist")
    _close(client, auth, pseudonym)
    trace = person_of(app, pseudonym)
    _assert_trace(trace)
    assert (trace.doc_index, trace.document_ct, trace.dek_wrapped) == (before.doc_index, before.document_ct,
                                                                       before.dek_wrapped)
    data = client.get(f"/v1/accounts/{pseudonym}/personal-data", headers=auth)
    assert (data.status_code, data.get_json()["code"]) == (410, "identity_erased")


def test_lifting_the_blacklist_erases_the_trace_and_lets_the_person_register(app, client, auth, clock):
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym, kind="blacklist")
    _close(client, auth, pseudonym)
    trace_id = person_of(app, pseudonym).id
    lifted = client.post(f"/v1/sanctions/{sanction['id']}/lift", json={"reason": "appeal upheld"}, headers=auth)
    assert lifted.status_code == 200
    _assert_erased(person_of(app, pseudonym))
    again = register(client, auth)
    assert person_of(app, again).id != trace_id  # erased means unlinkable: a fresh person
    assert client.get(f"/v1/accounts/{again}", headers=auth).get_json()["status"] == "active"


def test_a_posting_ban_follows_the_person_through_registering_again(app, client, auth, clock):
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym, kind="posting_ban")
    _close(client, auth, pseudonym)
    _assert_trace(person_of(app, pseudonym))
    again = register(client, auth, name="张 三")  # the trace holds no name to compare: any name is taken
    account = client.get(f"/v1/accounts/{again}", headers=auth).get_json()
    assert account["status"] == "restricted"
    assert [r["sanction_id"] for r in account["restrictions"]] == [sanction["id"]]
    revived = person_of(app, again)
    assert revived.id == person_of(app, pseudonym).id and revived.state == "active"
    assert revived.name_ct is not None and revived.birth_date_ct is not None
    data = client.get(f"/v1/accounts/{again}/personal-data", headers=auth).get_json()
    assert data["real_name"] == "张 三"
    history = client.get("/v1/sanctions", query_string={"pseudonym": again}, headers=auth).get_json()["items"]
    assert [s["id"] for s in history] == [sanction["id"]]


def test_a_trace_registering_on_another_platform_comes_back_as_the_same_person(app, client, platforms, auth,
                                                                               clock):
    pseudonym = register(client, auth)
    file(client, auth, pseudonym, kind="blacklist")
    _close(client, auth, pseudonym)
    trace = person_of(app, pseudonym)
    other = platforms.headers(platforms.create("chat"))
    elsewhere = register(client, other)  # used to collide with the trace's unique blind index
    person = person_of(app, elsewhere)
    assert person.id == trace.id and person.state == "active" and person.doc_index == trace.doc_index
    assert client.get(f"/v1/accounts/{elsewhere}", headers=other).get_json()["restrictions"] == []
    refused = client.post("/v1/registrations", json=registration(), headers=auth)
    assert refused.status_code == 403  # the first platform's blacklist still binds them
    _close(client, other, elsewhere)
    _assert_trace(person_of(app, elsewhere))  # and keeps their trace once they leave again


def test_an_expired_blacklist_stops_refusing_and_its_trace_is_erased_on_the_next_registration(app, client, auth,
                                                                                             clock):
    pseudonym = register(client, auth)
    file(client, auth, pseudonym, kind="blacklist", expires_at=rfc3339(clock.now() + timedelta(days=7)))
    _close(client, auth, pseudonym)
    clock.advance(days=7)
    again = register(client, auth)
    _assert_erased(person_of(app, pseudonym))
    assert person_of(app, again).id != person_of(app, pseudonym).id


def test_closing_the_last_account_of_an_unsanctioned_person_still_erases_them(app, client, auth, clock):
    pseudonym = register(client, auth)
    _close(client, auth, pseudonym)
    _assert_erased(person_of(app, pseudonym))


def test_a_closed_account_may_be_sanctioned_while_the_person_is_recognisable(app, client, platforms, clock):
    auth = platforms.headers(platforms.create(max_accounts_per_person=2))
    first, second = register(client, auth), register(client, auth)
    _close(client, auth, first)
    sanction = file(client, auth, first, kind="blacklist")
    assert sanction["pseudonym"] == first
    assert client.get(f"/v1/accounts/{second}", headers=auth).get_json()["status"] == "restricted"
    _close(client, auth, second)
    _assert_trace(person_of(app, second))
    assert client.post("/v1/registrations", json=registration(), headers=auth).status_code == 403


def test_a_trace_may_be_sanctioned_again_by_the_platform_that_closed_the_account(app, client, auth, clock):
    pseudonym = register(client, auth)
    ban = file(client, auth, pseudonym, kind="posting_ban")
    _close(client, auth, pseudonym)
    file(client, auth, pseudonym, kind="blacklist")
    client.post(f"/v1/sanctions/{ban['id']}/lift", json={"reason": "superseded"}, headers=auth)
    _assert_trace(person_of(app, pseudonym))  # the blacklist still keeps it
    assert client.post("/v1/registrations", json=registration(), headers=auth).status_code == 403


def test_an_erased_identity_cannot_be_sanctioned(app, client, auth, clock):
    pseudonym = register(client, auth)
    _close(client, auth, pseudonym)
    response = client.post("/v1/sanctions", headers=auth, json={
        "pseudonym": pseudonym, "kind": "blacklist", "reason_code": "illegal_content", "evidence_ref": "r"})
    assert (response.status_code, response.get_json()["code"]) == (410, "identity_erased")
