"""Group races, on SQLite and PostgreSQL: founding by two accounts of one person at once, and a
closure racing token issue."""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import func, select

from identity.extensions import db
from identity.models import Group
from tests.integration.test_races import race
from tests.support.groups import found, headers, token_scope
from tests.support.people import register

REMOVED_BY_CLOSURE = {"group:create", "group:manage"}


def test_two_accounts_of_one_person_founding_at_once_end_with_one_group(app, client, platforms):
    auth = headers(platforms, platforms.create(max_accounts_per_person=3, max_groups_per_person=1))
    for person in range(1, 4):
        accounts = [register(client, auth, sequence=person) for _ in range(3)]
        responses = race(app, [("post", "/v1/groups", {"json": {"founder": p}, "headers": auth}) for p in accounts])
        assert Counter(r.status_code for r in responses) == Counter({201: 1, 403: 2}), \
            [r.get_json() for r in responses]
        assert {r.get_json()["code"] for r in responses if r.status_code == 403} == {"group_creation_refused"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Group)) == 3


def test_no_token_issued_after_a_closure_carries_the_rights_it_removed(app, client, platforms):
    auth = headers(platforms, platforms.create())
    founder, manager = register(client, auth), register(client, auth, sequence=2)
    group = found(client, auth, founder)
    assert client.post(f"/v1/groups/{group['id']}/managers", json={"pseudonym": manager},
                       headers=auth).status_code == 200
    closed_at: list[float] = []
    issued: list[tuple[float, set[str]]] = []
    lock, stop = threading.Lock(), threading.Event()

    def issue_tokens(pseudonym: str) -> None:
        issuer = app.test_client()
        while not stop.is_set():
            began = time.monotonic()
            response = issuer.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth)
            assert response.status_code == 201, response.get_json()
            with lock:
                issued.append((began, token_scope(response.get_json()["token"])))

    threads = [threading.Thread(target=issue_tokens, args=(p,)) for p in (founder, manager, founder, manager)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3)  # tokens flow, and their permissions are cached
        closure = client.post(f"/v1/groups/{group['id']}/closure",
                              json={"reason_code": "illegal_content", "evidence_ref": "r"}, headers=auth)
        closed_at.append(time.monotonic())
        assert closure.status_code == 200, closure.get_json()
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    before = [scope for began, scope in issued if began < closed_at[0]]
    after = [scope for began, scope in issued if began > closed_at[0]]
    assert before and after, (len(before), len(after))
    assert any(REMOVED_BY_CLOSURE <= scope for scope in before)
    assert all(not scope & REMOVED_BY_CLOSURE for scope in after)
