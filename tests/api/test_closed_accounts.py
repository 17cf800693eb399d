"""A closed account tells its platform nothing about what the person holds on other platforms."""

from __future__ import annotations

from tests.support.people import register, registration, resident_id

VARYING = {"X-Request-Id", "Date"}


def same_answer(one, two) -> bool:
    def headers(response):
        return sorted((k, v) for k, v in response.headers.items() if k not in VARYING)
    return (one.status_code, one.get_data(), headers(one)) == (two.status_code, two.get_data(), headers(two))


def closed_accounts(client, platforms) -> tuple[dict[str, str], dict[str, str]]:
    """Three people whose account on `mine` is closed: one held nowhere else (erased), one with an
    open account on another platform, one kept as a trace by another platform's sanction."""
    mine, other = platforms.headers(platforms.create()), platforms.headers(platforms.create())
    alone = register(client, mine, sequence=1)
    elsewhere = register(client, mine, sequence=2)
    register(client, other, sequence=2)
    traced = register(client, mine, sequence=3)
    banned = register(client, other, sequence=3)
    assert client.post("/v1/sanctions", headers=other, json={
        "pseudonym": banned, "kind": "posting_ban", "reason_code": "spam", "evidence_ref": "r"}).status_code == 201
    assert client.delete(f"/v1/accounts/{banned}", headers=other).status_code == 204
    for pseudonym in (alone, elsewhere, traced):
        assert client.delete(f"/v1/accounts/{pseudonym}", headers=mine).status_code == 204
    return mine, {"alone": alone, "elsewhere": elsewhere, "traced": traced}


def test_personal_data_of_a_closed_account_is_gone_whatever_the_person_holds_elsewhere(client, platforms):
    mine, closed = closed_accounts(client, platforms)
    answers = {k: client.get(f"/v1/accounts/{p}/personal-data", headers=mine) for k, p in closed.items()}
    assert (answers["alone"].status_code, answers["alone"].get_json()["code"]) == (410, "identity_erased")
    assert same_answer(answers["alone"], answers["elsewhere"])
    assert same_answer(answers["alone"], answers["traced"])
    assert "张三" not in answers["elsewhere"].get_data(as_text=True)


def test_a_sanction_on_a_closed_account_answers_the_same_whatever_the_person_holds_elsewhere(client, platforms):
    mine, closed = closed_accounts(client, platforms)
    answers = {k: client.post("/v1/sanctions", headers=mine, json={
        "pseudonym": p, "kind": "blacklist", "reason_code": "fraud", "evidence_ref": "r"}) for k, p in closed.items()}
    assert (answers["alone"].status_code, answers["alone"].get_json()["code"]) == (410, "identity_erased")
    assert same_answer(answers["alone"], answers["elsewhere"])
    assert same_answer(answers["alone"], answers["traced"])
    # nothing was filed: the person registers again on this platform
    again = client.post("/v1/registrations", json=registration(resident_id(sequence=2)), headers=mine)
    assert again.status_code == 201
