"""Races decided by the database's unique constraints, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from identity.extensions import db
from identity.models import Account, Person
from tests.support.people import registration


def race(app, requests):
    """Run (method, url, kwargs) requests at once, one thread and client each; return the responses."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index, method, url, kwargs):
        client = app.test_client()
        barrier.wait()
        results[index] = getattr(client, method)(url, **kwargs)

    threads = [threading.Thread(target=run, args=(i, *req)) for i, req in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_racing_registrations_of_the_same_person_end_with_exactly_one_account(app, auth):
    responses = race(app, [("post", "/v1/registrations", {"json": registration(), "headers": auth})] * 6)
    assert Counter(r.status_code for r in responses) == Counter({201: 1, 409: 5})
    winner = next(r for r in responses if r.status_code == 201).get_json()["pseudonym"]
    assert all(r.get_json()["existing_pseudonyms"] == [winner] for r in responses if r.status_code == 409)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 1
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1


def test_racing_registrations_on_two_platforms_share_one_person(app, platforms):
    one, two = platforms.headers(platforms.create()), platforms.headers(platforms.create())
    responses = race(app, [("post", "/v1/registrations", {"json": registration(), "headers": h})
                           for h in (one, two, one, two)])
    assert Counter(r.status_code for r in responses) == Counter({201: 2, 409: 2})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 1


def test_racing_requests_with_one_idempotency_key_get_one_response(app, auth):
    headers = {**auth, "Idempotency-Key": "same-key"}
    responses = race(app, [("post", "/v1/registrations", {"json": registration(), "headers": headers})] * 4)
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_json()["pseudonym"] for r in responses}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1


def test_racing_registrations_of_a_person_known_elsewhere_end_with_one_account(app, platforms):
    """The person already exists (registered on another platform), so every racer counts their
    open accounts here and picks a free slot. On PostgreSQL a racer that committed between that
    count and a second read of the accounts used to leave no free slot: StopIteration, a 500."""
    elsewhere, here = platforms.headers(platforms.create()), platforms.headers(platforms.create())
    for sequence in range(1, 6):
        body = registration(sequence=sequence)
        assert app.test_client().post("/v1/registrations", json=body, headers=elsewhere).status_code == 201
        responses = race(app, [("post", "/v1/registrations", {"json": body, "headers": here})] * 6)
        assert Counter(r.status_code for r in responses) == Counter({201: 1, 409: 5}), sequence


def test_racing_mismatches_never_get_more_answers_than_the_platform_limit(app, platforms):
    """Every racer passes the first check (nothing counted yet); the check under the platform's
    lock, when a mismatch is about to be answered, lets exactly the limit through."""
    from tests.support.people import resident_id

    holder = platforms.headers(platforms.create())
    guesser = platforms.headers(platforms.create(mismatch_limit="2 per hour"))
    numbers = [resident_id(sequence=s) for s in range(60, 66)]
    for number in numbers:
        assert app.test_client().post("/v1/registrations", json=registration(number), headers=holder).status_code == 201
    responses = race(app, [("post", "/v1/registrations", {"json": registration(n, name="李四"), "headers": guesser})
                           for n in numbers])
    assert Counter(r.status_code for r in responses) == Counter({422: 2, 429: 4})
