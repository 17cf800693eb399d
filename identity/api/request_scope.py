"""Request-scoped access to the runtime: epochs read once per request, the current keyring."""

from __future__ import annotations

from flask import current_app, g

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
        reader = current_app.extensions.get("identity_epochs")
        if reader is None:
            reader = current_app.extensions.setdefault("identity_epochs", epochs.EpochReader(db.engine))
        found = g.epochs = reader.read()
    return found


def current_keyring() -> Keyring:
    return runtime().keyring_cache.get(db.session(), request_epochs().get("keys", 0))


def principal() -> Principal:
    return g.principal
