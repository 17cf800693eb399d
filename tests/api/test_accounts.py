"""Reading, listing and closing accounts; the person's access request; crypto-shredding."""

from __future__ import annotations

from sqlalchemy import select

from identity.extensions import db
from identity.models import AuditEvent, Person
from tests.support.people import registration


def register(client, headers, **kwargs):
    response = client.post("/v1/registrations", json=registration(**kwargs), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_another_platforms_pseudonym_is_answered_as_missing(client, platforms):
    mine, other = platforms.headers(platforms.create()), platforms.headers(platforms.create())
    account = register(client, other)
    for response in (client.get(f"/v1/accounts/{account['pseudonym']}", headers=mine),
                     client.delete(f"/v1/accounts/{account['pseudonym']}", headers=mine),
                     client.get(f"/v1/accounts/{account['pseudonym']}/personal-data", headers=mine)):
        assert response.status_code == 404
        assert response.get_json()["code"] == "not_found"
    unknown = client.get("/v1/accounts/psn_00000000000000000000000000", headers=mine)
    assert unknown.get_json() == client.get(f"/v1/accounts/{account['pseudonym']}", headers=mine).get_json()


def test_list_by_external_ref_shows_only_this_platforms_accounts(client, platforms):
    mine, other = platforms.headers(platforms.create()), platforms.headers(platforms.create())
    a = register(client, mine, external_ref="user-1")
    register(client, other, external_ref="user-1")
    register(client, mine, external_ref="user-2", sequence=2)
    listed = client.get("/v1/accounts?external_ref=user-1", headers=mine)
    assert listed.status_code == 200
    assert [item["pseudonym"] for item in listed.get_json()["items"]] == [a["pseudonym"]]
    assert client.get("/v1/accounts?external_ref=nobody", headers=mine).get_json() == {"items": []}


def test_list_requires_external_ref(client, auth):
    response = client.get("/v1/accounts", headers=auth)
    assert response.status_code == 422
    assert "external_ref" in response.get_json()["errors"]


def test_closing_shows_closed_and_is_idempotent(client, auth):
    account = register(client, auth)
    assert client.delete(f"/v1/accounts/{account['pseudonym']}", headers=auth).status_code == 204
    assert client.delete(f"/v1/accounts/{account['pseudonym']}", headers=auth).status_code == 204
    assert client.get(f"/v1/accounts/{account['pseudonym']}", headers=auth).get_json()["status"] == "closed"


def test_personal_data_is_masked_and_every_read_is_audited(app, client, platforms):
    headers = platforms.headers(platforms.create(phone="optional"))
    account = register(client, headers, phone="+8613800138000")
    response = client.get(f"/v1/accounts/{account['pseudonym']}/personal-data", headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert data["real_name"] == "张三"
    assert data["id_document"]["type"] == "cn_resident_id"
    number = data["id_document"]["number"]
    assert number.startswith("110") and "*" in number and len(number) == 18
    assert data["phone"].startswith("+86") and "*" in data["phone"] and not data["phone"].endswith("8000")
    assert data["consent"] == {"notice_version": "2026-01", "accepted_at": "2026-11-28T10:00:00Z",
                               "guardian_consent": False}
    assert data["verification"]["level"] == "document_checked"
    assert "retention" in data and data["created_at"]
    client.get(f"/v1/accounts/{account['pseudonym']}/personal-data", headers=headers)
    with app.app_context():
        reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "personal_data.read")).all()
        assert [e.subject for e in reads] == [account["pseudonym"]] * 2


def test_closing_the_last_account_destroys_the_key(app, client, auth):
    account = register(client, auth)
    client.delete(f"/v1/accounts/{account['pseudonym']}", headers=auth)
    erased = client.get(f"/v1/accounts/{account['pseudonym']}/personal-data", headers=auth)
    assert erased.status_code == 410 and erased.get_json()["code"] == "identity_erased"
    with app.app_context():
        person = db.session.scalars(select(Person)).one()
        assert person.state == "erased"
        assert person.dek_wrapped is None and person.name_ct is None and person.document_ct is None
        assert person.doc_index is None


def test_a_person_with_another_open_account_is_not_erased(client, platforms):
    one, two = platforms.headers(platforms.create()), platforms.headers(platforms.create())
    a = register(client, one)
    b = register(client, two)
    client.delete(f"/v1/accounts/{a['pseudonym']}", headers=one)
    assert client.get(f"/v1/accounts/{b['pseudonym']}/personal-data", headers=two).status_code == 200
    # the closed account itself answers as if erased: platform one learns nothing of platform two
    assert client.get(f"/v1/accounts/{a['pseudonym']}/personal-data", headers=one).status_code == 410


def test_registering_after_erasure_starts_a_fresh_person(app, client, auth):
    first = register(client, auth)
    client.delete(f"/v1/accounts/{first['pseudonym']}", headers=auth)
    second = register(client, auth, name="张三")
    with app.app_context():
        people = db.session.scalars(select(Person).order_by(Person.created_at)).all()
        assert [p.state for p in people] == ["erased", "active"]
    data = client.get(f"/v1/accounts/{second['pseudonym']}/personal-data", headers=auth).get_json()
    assert data["real_name"] == "张三"
