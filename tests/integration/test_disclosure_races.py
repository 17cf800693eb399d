"""Disclosure steps and holds racing each other and the closing of an account, at the service
level, each side in its own thread and database session (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.clock import utc_now
from identity.errors import IdentityErased, OperatorError
from identity.models import Account, DisclosureRequest, Person
from identity.services import accounts, disclosures, holds
from tests.integration.test_sanction_races import _engine_and_keyring, _principal, _run_together
from tests.support.lawful import admin, ok, request
from tests.support.people import register


def test_two_reveals_racing_reveal_once(app, client, runner, auth, platform):
    disclosure = request(runner, platform, register(client, auth))
    ok(admin(runner, "disclosures", "approve", disclosure, "--json", operator="bob"))
    engine, ring = _engine_and_keyring(app)
    recipient = PrivateKey.generate().public_key

    def reveal(operator: str) -> Callable[[], str]:
        def job() -> str:
            with Session(engine) as session:
                revealed = disclosures.reveal(session, ring, operator, disclosure, recipient, utc_now())
                session.commit()
                return revealed.sealed_box
        return job

    outcomes = _run_together(reveal("carol"), reveal("dave"))
    boxes = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, OperatorError)]
    assert len(boxes) == 1 and len(refused) == 1 and "revealed" in str(refused[0]), outcomes
    with Session(engine) as session:
        stored = session.get(DisclosureRequest, disclosure)
        assert stored is not None and stored.status == "revealed"


def test_a_hold_racing_the_closing_of_the_last_account_either_keeps_the_identity_or_is_refused(
        app, client, auth, platform):
    engine, ring = _engine_and_keyring(app)
    for sequence in range(1, 4):
        pseudonym = register(client, auth, sequence=sequence)

        def close(pseudonym: str = pseudonym) -> str:
            with Session(engine) as session:
                accounts.close(session, ring, _principal(platform), pseudonym, utc_now())
                session.commit()
                return "closed"

        def place(pseudonym: str = pseudonym) -> Any:
            with Session(engine) as session:
                hold = holds.place(session, ring, "alice", platform_id=platform, pseudonym=pseudonym,
                                   case_ref="c", now=utc_now())
                session.commit()
                return hold.id

        closed, held = _run_together(close, place)
        assert closed == "closed"
        with Session(engine) as session:
            person = session.scalar(select(Person).join(Account, Account.person_id == Person.id)
                                    .where(Account.pseudonym == pseudonym))
            assert person is not None
            if isinstance(held, str):  # the hold won, or came first: nothing was erased
                assert person.state == "active" and person.name_ct is not None
            else:  # the close came first and erased: the hold says so
                assert isinstance(held, IdentityErased), held
                assert person.state == "erased"
