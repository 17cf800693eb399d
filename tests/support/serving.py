"""Apps for tests: built and torn down the same way, and served over real HTTP on loopback."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from identity import create_app
from identity.settings import Settings


@contextmanager
def running_app(settings: Settings) -> Iterator[Flask]:
    """An app on the test's database; its connections are closed afterwards."""
    application = create_app(settings)
    yield application
    with application.app_context():
        from identity.extensions import db

        db.session.remove()
        db.engine.dispose()


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1 (a free port); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@contextmanager
def served_as_issuer(settings: Settings) -> Iterator[tuple[Flask, str]]:
    """An app whose configured issuer is the very URL it is served at, as in production: what a
    posting service configured with the issuer URL alone (RFC 8414 discovery) needs. The port is
    bound first, then the app is built with that issuer and put behind it."""
    server = make_server("127.0.0.1", 0, Flask(__name__), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    with running_app(dataclasses.replace(settings, issuer=base_url)) as application:
        server.app = application
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield application, base_url
        finally:
            server.shutdown()
            thread.join(5)
