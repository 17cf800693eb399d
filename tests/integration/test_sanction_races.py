"""Sanction changes racing the reads and writes that depend on them, at the service level,
each side in its own thread and database session (SQLite or PostgreSQL).

The token-issue side is played by what `POST /v1/tokens` does below its cache: read the epochs,
then `tokens.load_account_state`, whose `bars_posting` refuses the token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.clock import utc_now
from identity.engine_behaviour import read_only_transactions
from identity.errors import Conflict, IdentityErased
from identity.models import Account, Person, Sanction
from identity.services import accounts, epochs, sanctions, tokens
from identity.services.authentication import Principal
from identity.services.platforms import PlatformPolicy
from tests.support.people import register
from tests.support.sanctions import file


def _principal(platform_id: str) -> Principal:
    return Principal(key_id="key_race", platform_id=platform_id, scopes=frozenset({"sanctions:write"}),
                     policy=PlatformPolicy())


def _engine_and_keyring(app: Any) -> tuple[Any, Any]:
    from identity.cli.command_boundary import keyring
    from identity.extensions import db

    with app.app_context():
        return db.engine, keyring()


def _run_together(*jobs: Callable[[], Any]) -> list[Any]:
    """Start the jobs at the same moment; each result is its return value or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_lift_racing_a_token_issue_is_seen_whole_or_not_at_all(app, client, auth, platform):
    pseudonym = register(client, auth)
    sanction = file(client, auth, pseudonym, kind="posting_ban")
    engine, ring = _engine_and_keyring(app)
    with Session(engine) as session:
        start = epochs.read_epochs(session)["access"]
    observations: list[tuple[int, bool]] = []
    lifted = threading.Event()

    def issue_tokens() -> None:
        # Keep issuing until one issue has seen the lift's epoch (or give up after many tries).
        for _ in range(10_000):
            with read_only_transactions(), Session(engine) as session:
                epoch = epochs.read_epochs(session)["access"]  # first, as the token cache does
                state = tokens.load_account_state(session, ring, pseudonym, utc_now())
                assert state is not None
                observations.append((epoch, state[0].bars_posting))
            if lifted.is_set() and epoch > start:
                return

    def lift() -> None:
        with Session(engine) as session:
            sanctions.lift(session, ring, _principal(platform), sanction["id"], "appeal upheld", utc_now())
            session.commit()
        lifted.set()

    outcomes = _run_together(issue_tokens, lift)
    assert outcomes == [None, None]
    # Whatever the interleaving: an issue that saw the lift's epoch saw the lift (the bump is in
    # the same transaction), so a cache built under the new epoch never bars posting.
    assert all(not barred for epoch, barred in observations if epoch > start)
    assert observations[-1] == (start + 1, False)
    with Session(engine) as session:
        state = tokens.load_account_state(session, ring, pseudonym, utc_now())
        assert state is not None and not state[0].bars_posting


def test_two_lifts_racing_end_with_one_lift(app, client, auth, platform):
    sanction = file(client, auth, register(client, auth), kind="blacklist")
    engine, ring = _engine_and_keyring(app)

    def lift(reason: str) -> Callable[[], str]:
        def job() -> str:
            with Session(engine) as session:
                view = sanctions.lift(session, ring, _principal(platform), sanction["id"], reason, utc_now())
                session.commit()
                return reason if view.status == "lifted" else "?"
        return job

    outcomes = _run_together(lift("first"), lift("second"))
    winners = [o for o in outcomes if isinstance(o, str)]
    assert len(winners) == 1 and sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
    with Session(engine) as session:
        stored = session.get(Sanction, sanction["id"])
        assert stored is not None and stored.lift_reason == winners[0]


def test_filing_racing_the_closing_of_the_last_account_never_loses_the_sanction(app, client, auth, platform):
    engine, ring = _engine_and_keyring(app)
    for sequence in range(1, 4):
        pseudonym = register(client, auth, sequence=sequence)
        principal = _principal(platform)
        filing = sanctions.Filing(pseudonym=pseudonym, kind="blacklist", reason_code="fraud", evidence_ref="r",
                                  expires_at=None)

        def close(pseudonym: str = pseudonym, principal: Principal = principal) -> str:
            with Session(engine) as session:
                accounts.close(session, ring, principal, pseudonym, utc_now())
                session.commit()
                return "closed"

        def file_sanction(filing: sanctions.Filing = filing, principal: Principal = principal) -> str:
            with Session(engine) as session:
                view = sanctions.file(session, ring, principal, filing, utc_now())
                session.commit()
                return view.sanction.id

        closed, filed = _run_together(close, file_sanction)
        assert closed == "closed"
        with Session(engine) as session:
            person = session.scalar(select(Person).join(Account).where(Account.pseudonym == pseudonym))
            assert person is not None
            if isinstance(filed, IdentityErased):
                assert person.state == "erased"  # the close came first: nobody was left to bind
            else:
                assert isinstance(filed, str), filed
                assert person.state == "sanction_trace" and person.doc_index is not None


def test_a_trace_registering_on_two_platforms_at_once_comes_back_once(app, client, platforms, auth):
    pseudonym = register(client, auth)
    file(client, auth, pseudonym, kind="posting_ban")
    assert client.delete(f"/v1/accounts/{pseudonym}", headers=auth).status_code == 204
    others = [platforms.headers(platforms.create(name)) for name in ("chat", "wiki")]
    from tests.support.people import registration

    def register_on(headers: dict[str, str]) -> Callable[[], Any]:
        return lambda: app.test_client().post("/v1/registrations", json=registration(), headers=headers)

    responses = _run_together(*(register_on(h) for h in others))
    assert [r.status_code for r in responses] == [201, 201], [r.get_json() for r in responses]
    engine, _ = _engine_and_keyring(app)
    with Session(engine) as session:
        people = set(session.scalars(select(Account.person_id).where(Account.pseudonym.in_(
            [pseudonym, *(r.get_json()["pseudonym"] for r in responses)]))))
        assert len(people) == 1  # revived once, as the same person: no second person, no index collision
        person = session.get(Person, people.pop())
        assert person is not None and person.state == "active" and person.name_ct is not None
