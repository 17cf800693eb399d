"""Request-scoped access to the runtime: epochs read once per request, the current keyring."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from flask import current_app, g
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.extensions import db
from identity.process_state import Runtime
from identity.services import epochs
from identity.services.authentication import Principal


def runtime() -> Runtime:
    return current_app.extensions["identity"]


def request_epochs() -> epochs.Epochs:
    """The change counters, read once per request and before anything they guard."""
    found: epochs.Epochs | None = g.get("epochs")
    if found is None:
        reader = runtime().epoch_reader
        assert reader is not None  # build_app gives the server's runtime one
        found = g.epochs = reader.read()
    return found


def request_session() -> Session:
    """The request's database session, opened when its first statement runs.

    `db.session` is Flask-SQLAlchemy's request-scoped proxy: it opens the Session on first use.
    Services get the proxy rather than `db.session()`, so a request answered from the caches (a
    warm token issue, introspection or account read) never opens and closes a Session, which costs
    more than the rest of its own work (bench/README.md)."""
    return cast(Session, db.session)


def current_keyring() -> Keyring:
    return runtime().keyring_cache.get(request_epochs().get("keys", 0), request_session())


def current_time() -> datetime:
    """The runtime's clock: what every view hands to services as `now`."""
    return runtime().clock.now()


def principal() -> Principal:
    return g.principal
