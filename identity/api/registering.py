"""Registering a person from inside a Flask request, for every route that does it.

The use case is `services.registration.register_person`; this lends it the request's session
(one per request, committed or rolled back at the request's boundary, `api/transactions.py`),
the request's keyring and epochs, and counts the outcome (the `REGISTRATIONS` metric: the edge
counts, so services stay free of Prometheus). `POST /v1/registrations` calls `register`, and so
can any other view, with the `Principal` it registers for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from identity.api.request_scope import current_keyring, current_time, request_epochs, runtime
from identity.crypto.keyring import Keyring
from identity.extensions import db
from identity.metrics import REGISTRATIONS
from identity.services import registration
from identity.services.accounts import AccountView
from identity.services.authentication import Principal


def register(caller: Principal, request: registration.RegistrationRequest) -> AccountView:
    """Register for `caller` in this request's transaction; raises what `register_person` raises."""
    try:
        view = registration.register_person(runtime().registrar, request_boundary(), caller, request, current_time())
    except Exception as error:
        REGISTRATIONS.labels(outcome=getattr(error, "code", "error")).inc()
        raise
    REGISTRATIONS.labels(outcome="registered").inc()
    return view


def request_boundary() -> registration.Boundary:
    return registration.Boundary(apart=_committed_now, final=_committed_by_the_request,
                                 keyring=_request_keyring, mismatches_epoch=request_epochs().get("mismatches"),
                                 clock=current_time)


def _request_keyring(_session: Session) -> Keyring:
    return current_keyring()


@contextmanager
def _committed_now() -> Iterator[Session]:
    """One transaction, committed at the block's end. There is one session per request, so this
    also ends what the request read before it (authentication, the idempotency lookup)."""
    session = db.session()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


@contextmanager
def _committed_by_the_request() -> Iterator[Session]:
    """One transaction, left open at the block's end: the request's boundary commits it, with
    the idempotent response stored beside the registration (`api/idempotent.py`)."""
    session = db.session()
    try:
        yield session
    except BaseException:
        session.rollback()  # before a refusal's audit commits in the same session
        raise
