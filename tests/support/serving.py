"""Apps for tests: built and torn down the same way, and served over real HTTP on loopback."""

from __future__ import annotations

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
