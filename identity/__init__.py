"""Real names in the back end, pseudonyms in the front end."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily so realname_identity_client can be used without the server's dependencies
    from flask import Flask

    from identity.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The WSGI application: `gunicorn 'identity:create_app()'`."""
    from identity.app import build_app
    from identity.settings import Settings

    return build_app(settings or Settings.from_env())
