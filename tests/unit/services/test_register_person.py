"""`services.registration.register_person` on its own: no Flask request, units of work that
record what they did, verifiers that are stand-ins. What the API tests cannot see: which
transaction each step ran in, and what was open while an authority was asked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from identity.errors import DuplicateIdentity, IdentityNotVerified, RegistrationRefused
from identity.models import Account, AuditEvent, Person, RegistrationMismatch
from identity.services.authentication import Principal
from identity.services.platforms import PlatformPolicy
from identity.services.registration import Boundary, Registrar, RegistrationRequest, register_person
from identity.verifiers import DOCUMENT_CHECKED, Verification
from tests.support.people import register
from tests.support.sanctions import file

NUMBER = "11010519491231002X"
NAME = "张三"


def request(number: str = NUMBER, name: str = NAME) -> RegistrationRequest:
    return RegistrationRequest(real_name=name, id_type="cn_resident_id", id_number=number, issuing_country=None,
                               phone=None, external_ref=None, notice_version="2026-01",
                               accepted_at=datetime(2026, 11, 28, 10, tzinfo=UTC), guardian_consent=None)


def principal(platform_id: str) -> Principal:
    return Principal(key_id="key_test", platform_id=platform_id, scopes=frozenset({"registrations:write"}),
                     policy=PlatformPolicy())


class Units:
    """Units of work over the app's engine, each in a session of its own, recording its fate."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine)
        self.open = 0
        self.log: list[tuple[str, str]] = []
        self.kept: Session | None = None  # a `final` transaction left for the caller

    def unit(self, name: str, *, commit: bool = True) -> Callable[[], Any]:
        @contextmanager
        def run() -> Iterator[Session]:
            session = self.sessions()
            self.open += 1
            try:
                yield session
            except BaseException:
                session.rollback()
                session.close()
                self.log.append((name, "rolled back"))
                raise
            finally:
                self.open -= 1
            if commit:
                session.commit()
                session.close()
                self.log.append((name, "committed"))
            else:
                self.kept = session
                self.log.append((name, "left open"))
        return run

    def boundary(self, app: Flask, *, final_commits: bool = True) -> Boundary:
        cache = app.extensions["identity"].keyring_cache
        return Boundary(apart=self.unit("apart"), final=self.unit("final", commit=final_commits),
                        keyring=lambda session: cache.get(0, session))

    def count(self, model: type, *where: Any) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@dataclass
class StandIn:
    """A verifier that records, at each call, how many units were open and how many connections
    were checked out of the pool; then answers with `answer`."""

    units: Units
    is_remote: bool
    answer: Exception | None = None
    seen: list[tuple[int, int]] = field(default_factory=list)

    def verify(self, real_name: str, document: Any) -> Verification:
        self.seen.append((self.units.open, self.units.engine.pool.checkedout()))  # type: ignore[attr-defined]
        if self.answer is not None:
            raise self.answer
        return Verification(level=DOCUMENT_CHECKED, method="offline", verified_at=datetime.now(UTC))


@pytest.fixture
def units(app: Flask) -> Iterator[Units]:
    from identity.extensions import db

    with app.app_context():
        found = Units(db.engine)
    yield found
    if found.kept is not None:
        found.kept.close()


def registrar(verifier: StandIn) -> Registrar:
    return Registrar(verifier=verifier, default_mismatch_limit="100 per hour")


def test_a_remote_authority_is_asked_with_no_transaction_open(app, units, platform):
    authority = StandIn(units, is_remote=True)
    idle = units.engine.pool.checkedout()  # type: ignore[attr-defined]
    view = register_person(registrar(authority), units.boundary(app), principal(platform), request(),
                           datetime.now(UTC))
    assert authority.seen == [(0, idle)]
    assert units.log == [("apart", "committed"), ("final", "committed")]
    assert units.count(Account, Account.pseudonym == view.account.pseudonym) == 1


def test_a_verifier_that_answers_at_once_is_asked_inside_the_registrations_transaction(app, units, platform):
    local = StandIn(units, is_remote=False)
    register_person(registrar(local), units.boundary(app), principal(platform), request(), datetime.now(UTC))
    assert [opened for opened, _ in local.seen] == [1]
    assert units.log == [("final", "committed")]


def test_the_registrations_writes_are_left_for_the_caller_to_commit(app, units, platform):
    boundary = units.boundary(app, final_commits=False)
    view = register_person(registrar(StandIn(units, is_remote=True)), boundary, principal(platform), request(),
                           datetime.now(UTC))
    assert units.log == [("apart", "committed"), ("final", "left open")]
    assert units.kept is not None
    units.kept.rollback()  # the caller's boundary fails: nothing of the registration stays
    assert units.count(Account, Account.pseudonym == view.account.pseudonym) == 0
    assert units.count(Person) == 0


def test_a_refusal_is_audited_though_the_registration_rolls_back(app, units, client, auth, platform):
    pseudonym = register(client, auth, number=NUMBER)
    sanction = file(client, auth, pseudonym, kind="blacklist")
    accounts_before = units.count(Account)
    with pytest.raises(RegistrationRefused):
        register_person(registrar(StandIn(units, is_remote=False)), units.boundary(app), principal(platform),
                        request(), datetime.now(UTC))
    assert units.log == [("final", "rolled back"), ("apart", "committed")]
    assert units.count(AuditEvent, AuditEvent.action == "registration.refused",
                       AuditEvent.subject == sanction["id"]) == 1
    assert units.count(Account) == accounts_before


def test_a_mismatch_is_counted_in_a_transaction_of_its_own(app, units, platform):
    authority = StandIn(units, is_remote=True, answer=IdentityNotVerified())
    with pytest.raises(IdentityNotVerified):
        register_person(registrar(authority), units.boundary(app), principal(platform), request(), datetime.now(UTC))
    assert units.log == [("apart", "committed"), ("apart", "committed")]  # the checks, then the count
    assert units.count(RegistrationMismatch, RegistrationMismatch.platform_id == platform) == 1
    assert units.count(AuditEvent, AuditEvent.action == "registration.not_verified") == 1
    assert units.count(Person) == 0


def test_a_duplicate_names_the_callers_accounts_and_no_other_platforms(app, units, platforms):
    here, elsewhere = platforms.create("here"), platforms.create("elsewhere")
    local = registrar(StandIn(units, is_remote=False))
    mine = register_person(local, units.boundary(app), principal(here), request(), datetime.now(UTC))
    theirs = register_person(local, units.boundary(app), principal(elsewhere), request(), datetime.now(UTC))
    with pytest.raises(DuplicateIdentity) as duplicate:
        register_person(local, units.boundary(app), principal(here), request(), datetime.now(UTC))
    assert duplicate.value.existing_pseudonyms == [mine.account.pseudonym]
    assert theirs.account.pseudonym not in duplicate.value.existing_pseudonyms
