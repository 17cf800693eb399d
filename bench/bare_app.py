"""The reference of issue 15: a one-route Flask app answering `{"ok": true}` on `GET /`, with none
of the service's hooks. `bench.instructions` calls it as a WSGI app; `bench.http` serves it with
`gunicorn -c config/gunicorn.conf.py bench.bare_app:app`, the service's own settings."""

from __future__ import annotations

from flask import Flask


def bare_app() -> Flask:
    app = Flask("bare")
    app.add_url_rule("/", "ok", lambda: {"ok": True})
    return app


app = bare_app()
