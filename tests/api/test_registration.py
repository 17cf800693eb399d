"""POST /v1/registrations through the test client: every rule and outcome of the contract."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from identity.clock import utc_now
from identity.extensions import db
from identity.models import Account, Person
from tests.support.people import registration, resident_id

PSEUDONYM = re.compile(r"^psn_[0-9a-hjkmnp-tv-z]{26}$")


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_registration_returns_the_account_and_its_location(client, auth):
    response = client.post("/v1/registrations", json=registration(external_ref="forum-user-42"), headers=auth)
    assert response.status_code == 201
    body = response.get_json()
    assert PSEUDONYM.match(body["pseudonym"])
    assert response.headers["Location"] == f"/v1/accounts/{body['pseudonym']}"
    assert body["status"] == "active"
    assert body["verification"]["level"] == "document_checked"
    assert body["verification"]["method"] == "offline"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["verification"]["verified_at"])
    assert body["attributes"] == {"adult": True}
    assert body["restrictions"] == []
    assert body["external_ref"] == "forum-user-42"
    assert body["credit"] == {"score": 100, "level": "A"}
    assert set(body) == {"pseudonym", "status", "verification", "attributes", "restrictions", "credit",
                         "external_ref", "created_at"}


def test_contract_example_registers(client, platforms):
    platform = platforms.create(phone="optional")
    headers = platforms.headers(platform)
    body = {
        "real_name": "张三",
        "id_document": {"type": "cn_resident_id", "number": "11010519491231002X"},
        "phone": "+8613800138000",
        "external_ref": "forum-user-42",
        "consent": {"notice_version": "2026-01", "accepted_at": "2026-11-28T10:00:00Z"},
    }
    assert client.post("/v1/registrations", json=body, headers=headers).status_code == 201


def test_lowercase_x_and_spaces_are_the_same_person(client, auth):
    first = client.post("/v1/registrations", json=registration("11010519491231002X"), headers=auth)
    assert first.status_code == 201
    again = client.post("/v1/registrations", json=registration("110105 19491231 002x"), headers=auth)
    assert again.status_code == 409
    assert again.get_json()["existing_pseudonyms"] == [first.get_json()["pseudonym"]]


def test_each_platform_gets_a_different_pseudonym(client, platforms):
    one, two = platforms.create(), platforms.create()
    a = client.post("/v1/registrations", json=registration(), headers=platforms.headers(one)).get_json()
    b = client.post("/v1/registrations", json=registration(), headers=platforms.headers(two)).get_json()
    assert a["pseudonym"] != b["pseudonym"]


@pytest.mark.parametrize("doc", [
    {"type": "hk_macau_travel_permit", "number": "H12345678"},
    {"type": "hk_macau_travel_permit", "number": "M1234567890"},
    {"type": "tw_travel_permit", "number": "12345678"},
    {"type": "passport", "number": "E12345678", "issuing_country": "CHN"},
    {"type": "passport", "number": "X1234567", "issuing_country": "DEU"},
])
def test_every_document_type_registers(client, auth, doc):
    body = registration()
    body["id_document"] = doc
    response = client.post("/v1/registrations", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    # no birth date in these numbers: adulthood is not proven
    assert response.get_json()["attributes"] == {"adult": False}


def test_foreign_permanent_resident_card_registers(client, auth):
    # 9 | province 11 | nationality 840 (USA) | 1985-03-02 | sequence 001 | check digit
    body17 = "91184019850302001"
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    check = (12 - sum(int(d) * w for d, w in zip(body17, weights, strict=True)) % 11) % 11
    number = body17 + ("X" if check == 10 else str(check))
    body = registration()
    body["id_document"] = {"type": "cn_foreign_permanent_resident_id", "number": number}
    response = client.post("/v1/registrations", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["attributes"] == {"adult": True}


def problem_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code and body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


@pytest.mark.parametrize("mutate, field", [
    (lambda b: b.update(real_name="张3"), "real_name"),
    (lambda b: b.update(real_name="张三😀"), "real_name"),
    (lambda b: b.update(real_name=""), "real_name"),
    (lambda b: b.update(real_name="字" * 65), "real_name"),
    (lambda b: b["id_document"].update(number="11010519491231002"), "id_document.number"),
    (lambda b: b["id_document"].update(number="110105194912310021"), "id_document.number"),
    (lambda b: b["id_document"].update(number="110105491231002"), "id_document.number"),
    (lambda b: b["id_document"].update(number="000000199001010019"), "id_document.number"),
    (lambda b: b["id_document"].update(type="drivers_licence"), "id_document.type"),
    (lambda b: b.update(id_document={"type": "passport", "number": "E12345678"}), "id_document.issuing_country"),
    (lambda b: b.update(id_document={"type": "passport", "number": "E1", "issuing_country": "CHN"}),
     "id_document.number"),
    (lambda b: b.update(id_document={"type": "hk_macau_travel_permit", "number": "X12345678"}),
     "id_document.number"),
    (lambda b: b.update(id_document={"type": "tw_travel_permit", "number": "1234567"}), "id_document.number"),
    (lambda b: b.update(external_ref="x" * 129), "external_ref"),
    (lambda b: b["consent"].update(accepted_at="2999-01-01T00:00:00Z"), "consent.accepted_at"),
    (lambda b: b["consent"].update(accepted_at="yesterday"), "consent.accepted_at"),
    (lambda b: b["consent"].pop("notice_version"), "consent.notice_version"),
    (lambda b: b.pop("consent"), "consent"),
    (lambda b: b.update(nickname="zs"), "nickname"),
    (lambda b: b["id_document"].update(expiry="2030-01-01"), "id_document.expiry"),
    (lambda b: b.update(real_name=42), "real_name"),
])
def test_invalid_fields_are_named_and_nothing_is_stored(app, client, auth, mutate, field):
    body = registration()
    mutate(body)
    response = client.post("/v1/registrations", json=body, headers=auth)
    problem = problem_of(response, 422, "validation_failed")
    assert field in problem["errors"], problem
    assert count(app, Person) == 0 and count(app, Account) == 0


def test_fifteen_digit_legacy_number_is_refused_with_a_message_that_says_so(client, auth):
    response = client.post("/v1/registrations", json=registration("110105491231002"), headers=auth)
    messages = " ".join(problem_of(response, 422, "validation_failed")["errors"]["id_document.number"])
    assert "15" in messages


def test_future_birth_date_is_refused(client, auth):
    tomorrow = date.today() + timedelta(days=2)
    response = client.post("/v1/registrations", json=registration(resident_id(birth=tomorrow)), headers=auth)
    assert "id_document.number" in problem_of(response, 422, "validation_failed")["errors"]


def test_several_failing_fields_are_all_named(client, auth):
    body = registration("110105194912310021", name="张3")
    errors = problem_of(client.post("/v1/registrations", json=body, headers=auth), 422, "validation_failed")["errors"]
    assert {"real_name", "id_document.number"} <= set(errors)


def test_phone_is_refused_where_the_policy_forbids_it(client, auth):
    body = registration(phone="+8613800138000")
    errors = problem_of(client.post("/v1/registrations", json=body, headers=auth), 422, "validation_failed")["errors"]
    assert "phone" in errors


def test_phone_is_required_where_the_policy_says_so(client, platforms):
    headers = platforms.headers(platforms.create(phone="required"))
    errors = problem_of(client.post("/v1/registrations", json=registration(), headers=headers), 422,
                        "validation_failed")["errors"]
    assert "phone" in errors
    ok = client.post("/v1/registrations", json=registration(phone="+8613800138000"), headers=headers)
    assert ok.status_code == 201


@pytest.mark.parametrize("phone", ["13800138000", "+861380013800", "+999123", "+86 138 0013 800a"])
def test_invalid_phone_numbers_are_refused(client, platforms, phone):
    headers = platforms.headers(platforms.create(phone="optional"))
    response = client.post("/v1/registrations", json=registration(phone=phone), headers=headers)
    assert "phone" in problem_of(response, 422, "validation_failed")["errors"]


def test_under_fourteen_needs_guardian_consent(app, client, auth):
    child = resident_id(birth=date.today().replace(year=date.today().year - 10) - timedelta(days=3))
    response = client.post("/v1/registrations", json=registration(child), headers=auth)
    problem_of(response, 422, "guardian_consent_required")
    assert count(app, Person) == 0
    body = registration(child)
    body["consent"]["guardian_consent"] = True
    created = client.post("/v1/registrations", json=body, headers=auth)
    assert created.status_code == 201
    assert created.get_json()["attributes"] == {"adult": False}


def test_guardian_consent_must_be_a_real_boolean(client, auth):
    body = registration()
    body["consent"]["guardian_consent"] = "yes"
    response = client.post("/v1/registrations", json=body, headers=auth)
    assert "consent.guardian_consent" in problem_of(response, 422, "validation_failed")["errors"]


def test_fourteenth_birthday_today_needs_no_guardian(client, auth):
    today = utc_now().date()
    try:
        birth = today.replace(year=today.year - 14)
    except ValueError:  # 29 February
        birth = today.replace(year=today.year - 14, day=28)
    response = client.post("/v1/registrations", json=registration(resident_id(birth=birth)), headers=auth)
    assert response.status_code == 201


def test_minimum_age_policy_refuses_younger_people(client, platforms):
    headers = platforms.headers(platforms.create(min_age=18))
    today = utc_now().date()
    seventeen = resident_id(birth=today.replace(year=today.year - 18) + timedelta(days=1))
    problem_of(client.post("/v1/registrations", json=registration(seventeen), headers=headers), 422,
               "age_requirement_not_met")
    eighteen = resident_id(birth=today.replace(year=today.year - 18) - timedelta(days=1), sequence=2)
    assert client.post("/v1/registrations", json=registration(eighteen), headers=headers).status_code == 201


def test_minimum_age_policy_refuses_documents_without_a_birth_date(client, platforms):
    headers = platforms.headers(platforms.create(min_age=16))
    body = registration()
    body["id_document"] = {"type": "tw_travel_permit", "number": "12345678"}
    problem_of(client.post("/v1/registrations", json=body, headers=headers), 422, "age_requirement_not_met")


def test_duplicate_answers_the_platforms_own_existing_pseudonyms(client, platforms):
    mine, other = platforms.create(), platforms.create()
    elsewhere = client.post("/v1/registrations", json=registration(), headers=platforms.headers(other)).get_json()
    headers = platforms.headers(mine)
    first = client.post("/v1/registrations", json=registration(), headers=headers).get_json()
    response = client.post("/v1/registrations", json=registration(), headers=headers)
    body = problem_of(response, 409, "duplicate_identity")
    assert body["existing_pseudonyms"] == [first["pseudonym"]]
    assert elsewhere["pseudonym"] not in body["existing_pseudonyms"]


def test_maximum_accounts_per_person_follows_the_policy(client, platforms):
    headers = platforms.headers(platforms.create(max_accounts_per_person=2))
    first = client.post("/v1/registrations", json=registration(), headers=headers)
    second = client.post("/v1/registrations", json=registration(), headers=headers)
    assert first.status_code == second.status_code == 201
    third = client.post("/v1/registrations", json=registration(), headers=headers)
    assert sorted(problem_of(third, 409, "duplicate_identity")["existing_pseudonyms"]) == sorted(
        [first.get_json()["pseudonym"], second.get_json()["pseudonym"]])


def test_a_closed_account_frees_its_place(client, auth):
    first = client.post("/v1/registrations", json=registration(), headers=auth).get_json()
    assert client.delete(f"/v1/accounts/{first['pseudonym']}", headers=auth).status_code == 204
    again = client.post("/v1/registrations", json=registration(), headers=auth)
    assert again.status_code == 201
    assert again.get_json()["pseudonym"] != first["pseudonym"]


def test_a_different_name_for_a_held_document_is_not_verified(client, platforms):
    client.post("/v1/registrations", json=registration(name="张三"), headers=platforms.headers(platforms.create()))
    response = client.post("/v1/registrations", json=registration(name="李四"),
                           headers=platforms.headers(platforms.create()))
    problem_of(response, 422, "identity_not_verified")


def test_nfkc_normalises_fullwidth_names(client, platforms):
    client.post("/v1/registrations", json=registration(name="Jean Luc"), headers=platforms.headers(platforms.create()))
    same = client.post("/v1/registrations", json=registration(name="  Ｊｅａｎ   Ｌｕｃ "),
                       headers=platforms.headers(platforms.create()))
    assert same.status_code == 201
