"""`identity-admin transparency report`: a year of disclosures and sanctions, counted exactly,
each step in the period it happened in; counts only, no pseudonyms."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.support.lawful import admin, authority_key, ok, request
from tests.support.people import register
from tests.support.sanctions import file

HAIDIAN, CHAOYANG, STATE = "PSB Haidian", "PSB Chaoyang", "State Security Bureau"
CSL, NSL, CPL = "Cybersecurity Law art. 28", "National Security Law art. 77", "Criminal Procedure Law art. 54"


def at(*when: int) -> datetime:
    return datetime(*when, tzinfo=UTC)


def test_a_year_of_requests_approvals_denials_reveals_and_sanctions_is_counted_exactly(
        app, client, runner, platform, auth, tmp_path, clock):
    clock.set(at(2026, 12, 20, 9))
    _, key_file = authority_key(tmp_path)
    people = [register(client, auth, sequence=n) for n in range(1, 8)]

    def on(moment: datetime) -> None:
        clock.set(moment)

    def approve(disclosure: str) -> None:
        ok(admin(runner, "disclosures", "approve", disclosure, "--json", operator="bob"))

    def reveal(disclosure: str) -> None:
        ok(admin(runner, "disclosures", "reveal", disclosure, "--recipient-key", str(key_file), "--json",
                 operator="bob"))

    def sanction(moment: datetime, person: str, kind: str, reason: str) -> None:
        on(moment)
        file(client, auth, person, kind=kind, reason_code=reason)

    # Before the year: requested and approved in 2026, revealed on 1 January 2027.
    on(at(2026, 12, 20, 10))
    r0 = request(runner, platform, people[0], authority=HAIDIAN, legal_basis=CSL)
    sanction(at(2026, 12, 21), people[0], "posting_ban", "spam")
    on(at(2026, 12, 31, 12))
    approve(r0)
    on(at(2027, 1, 1, 8))
    reveal(r0)
    # The year.
    on(at(2027, 1, 5))
    r1 = request(runner, platform, people[1], authority=HAIDIAN, legal_basis=CSL)
    on(at(2027, 1, 6))
    approve(r1)
    on(at(2027, 1, 7))
    reveal(r1)
    sanction(at(2027, 2, 14), people[1], "posting_ban", "illegal_content")
    on(at(2027, 3, 10))
    r2 = request(runner, platform, people[2], authority=STATE, legal_basis=NSL)
    on(at(2027, 3, 11))
    ok(admin(runner, "disclosures", "deny", r2, "--reason", "outside our remit", "--json", operator="bob"))
    sanction(at(2027, 4, 1), people[2], "blacklist", "fraud")
    sanction(at(2027, 5, 1), people[3], "group_management_suspension", "spam")
    on(at(2027, 6, 1))
    r3 = request(runner, platform, people[3], authority=CHAOYANG, legal_basis=CSL)
    on(at(2027, 6, 2))
    approve(r3)  # and then left to lapse
    sanction(at(2027, 8, 8), people[4], "posting_ban", "spam")
    on(at(2027, 9, 15))
    request(runner, platform, people[4], authority=HAIDIAN, legal_basis=CPL)  # left pending
    on(at(2027, 12, 31, 23, 59))
    r5 = request(runner, platform, people[5], authority=STATE, legal_basis=NSL)
    # After the year.
    on(at(2028, 1, 1, 0, 0))
    approve(r5)
    on(at(2028, 1, 2))
    request(runner, platform, people[6], authority=CHAOYANG, legal_basis=CSL)
    sanction(at(2028, 1, 3), people[6], "blacklist", "terrorism")

    result = admin(runner, "transparency", "report", "--from", "2027-01-01", "--to", "2027-12-31", "--json")
    assert ok(result) == {
        "from": "2027-01-01", "to": "2027-12-31",
        "disclosures": {"requested": 5, "approved": 2, "denied": 1, "revealed": 2,
                        "by_authority": {HAIDIAN: 2, CHAOYANG: 1, STATE: 2},
                        "by_legal_basis": {CSL: 2, NSL: 2, CPL: 1}},
        "sanctions": {"by_kind": {"posting_ban": 2, "blacklist": 1, "group_management_suspension": 1},
                      "by_reason": {"illegal_content": 1, "fraud": 1, "spam": 2}},
    }
    table = admin(runner, "transparency", "report", "--from", "2027-01-01", "--to", "2027-12-31")
    assert table.exit_code == 0
    lines = [" ".join(line.split()) for line in table.output.splitlines()]
    for expected in ("requested 5", "approved 2", "denied 1", "revealed 2", f"{HAIDIAN} 2", f"{NSL} 2",
                     "posting_ban 2", "group_management_suspension 1", "spam 2", "fraud 1"):
        assert expected in lines, expected
    for output in (result.output, table.output):
        assert platform not in output and not any(p in output for p in people)
    assert json.loads(admin(runner, "audit", "verify", "--json").stdout)["ok"] is True


def test_a_report_with_its_days_the_wrong_way_round_is_refused(runner):
    result = admin(runner, "transparency", "report", "--from", "2027-12-31", "--to", "2027-01-01")
    assert result.exit_code == 1 and "--to" in result.output
    assert admin(runner, "transparency", "report", "--from", "last year", "--to", "2027-01-01").exit_code == 2
