"""Flask extensions, created unbound and bound to an app in `create_app`."""

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from identity.models.base import Base

# Routes that are never rate limited: probes, metrics and the API documents.
UNLIMITED_BLUEPRINTS = ("health", "api-docs")


def _rate_limit_key() -> str:
    from identity.api.auth import rate_limit_key

    return rate_limit_key()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def build_limiter(limit: str) -> Limiter:
    """One limiter per app: Flask-Limiter keeps its default limits on the instance, so a shared
    one would carry the first app's limit into every later app (tests build many). A fixed
    string, unlike a callable, is parsed once rather than on every request. Rate-limit headers
    on every answer cost a tenth of a cheap request; a 429 carries Retry-After all the same."""
    return Limiter(key_func=_rate_limit_key, headers_enabled=False, default_limits=[limit],
                   default_limits_exempt_when=lambda: request.blueprint in UNLIMITED_BLUEPRINTS)
