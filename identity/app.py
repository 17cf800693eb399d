"""Assembling the Flask application from settings."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from identity.db import configure_engine, engine_options
from identity.extensions import db, migrate
from identity.logging_setup import configure_logging
from identity.runtime import build_runtime
from identity.schema_state import MIGRATIONS_DIR
from identity.settings import Settings


def build_app(settings: Settings) -> Flask:
    configure_logging(settings.log_level, settings.log_format)
    settings.instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds the database and keys
    app = Flask("identity", instance_path=str(settings.instance_path))
    app.config.update(
        TESTING=settings.testing,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=64 * 1024,
        API_TITLE="Identity service",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    if settings.trusted_proxies:
        # The client address (rate limits) becomes the one the outermost trusted proxy saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=0, x_host=0, x_port=0, x_prefix=0)
    with app.app_context():
        app.extensions["identity"] = build_runtime(settings, db.engine)

    from identity.api import init_api
    from identity.api.request_ids import init_request_ids

    init_request_ids(app)
    from identity.cli import init_cli

    init_api(app)
    init_cli(app)
    return app
