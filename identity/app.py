"""Assembling the Flask application from settings."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from identity.api.responses import ServiceJSONProvider
from identity.engine_behaviour import configure_engine, engine_options
from identity.extensions import db, migrate
from identity.logging_setup import configure_logging
from identity.process_state import build_runtime
from identity.schema_state import MIGRATIONS_DIR
from identity.settings import Settings


class IdentityFlask(Flask):
    """Flask, less its check of every view and hook for a coroutine on every call (nine a request):
    the service has none, and `refuse_coroutines` makes sure of it at start-up."""

    json_provider_class = ServiceJSONProvider

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return func


def refuse_coroutines(app: Flask) -> None:
    hooks: Iterable[Callable[..., Any]] = [
        *app.view_functions.values(), *app.teardown_appcontext_funcs,
        *(f for registry in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
          for funcs in registry.values() for f in funcs),
        *(f for codes in app.error_handler_spec.values() for handlers in codes.values() for f in handlers.values())]
    found = [f.__qualname__ for f in hooks if inspect.iscoroutinefunction(f)]
    if found:
        raise TypeError(f"async views or hooks need Flask's ensure_sync: {', '.join(found)}")


def build_app(settings: Settings) -> Flask:
    configure_logging(settings.log_level, settings.log_format)
    settings.instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds the database and keys
    app = IdentityFlask("identity", instance_path=str(settings.instance_path))
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
    from identity.web import init_web

    init_api(app)
    init_web(app)
    init_cli(app)
    refuse_coroutines(app)
    return app
