"""Request-scoped access to the runtime: epochs read once per request, the current keyring."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.db import holds_database_lock, read_only_transactions
from identity.extensions import db
from identity.runtime import Runtime
from identity.services import epochs
from identity.services.authentication import Principal


def runtime() -> Runtime:
    return current_app.extensions["identity"]


def request_epochs() -> epochs.Epochs:
    if "epochs" not in g:
        session = db.session()
        if session.in_transaction() or not holds_database_lock(session):
            g.epochs = _read_epochs_surviving_a_dropped_connection(session)
        else:
            # An SQLite write takes the database's one write lock at its first statement. Read
            # the counters in a read transaction of their own, so the lock waits for the writes
            # and is not held while the request is authenticated and its body validated. Data
            # read later is at least as new as these counters, which is all the caches need.
            with read_only_transactions():
                g.epochs = epochs.read_epochs(session)
                session.commit()
    return g.epochs


def _read_epochs_surviving_a_dropped_connection(session: Session) -> epochs.Epochs:
    """The counters are every request's first statement. If the pooled connection turns out to
    be dead (the database restarted, or dropped it), SQLAlchemy invalidates the pool and the
    read is simply run again on a fresh connection: nothing was done yet, so retrying is safe.
    This replaces a ping on every checkout, which cost a round trip on every request."""
    try:
        return epochs.read_epochs(session)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        session.rollback()
        return epochs.read_epochs(session)


def current_keyring() -> Keyring:
    return runtime().keyring_cache.get(db.session(), request_epochs().get("keys", 0))


def principal() -> Principal:
    return g.principal
