"""Request-scoped access to the runtime: epochs read once per request, the current keyring."""

from __future__ import annotations

from flask import current_app, g

from identity.crypto.keyring import Keyring
from identity.extensions import db
from identity.runtime import Runtime
from identity.services import epochs
from identity.services.authentication import Principal


def runtime() -> Runtime:
    return current_app.extensions["identity"]


def request_epochs() -> epochs.Epochs:
    if "epochs" not in g:
        g.epochs = epochs.read_epochs(db.session())
    return g.epochs


def current_keyring() -> Keyring:
    return runtime().keyring_cache.get(db.session(), request_epochs().get("keys", 0))


def principal() -> Principal:
    return g.principal
