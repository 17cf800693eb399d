"""Flask extensions, created unbound and bound to an app in `create_app`."""

from flask import current_app, request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from identity.models.base import Base

# Routes that are never rate limited: probes, metrics and the API documents.
UNLIMITED_BLUEPRINTS = ("health", "api-docs")


def _rate_limit_key() -> str:
    from identity.api.auth import rate_limit_key

    return rate_limit_key()


def _configured_limit() -> str:
    # Read per request so each app (one per process in production, many in tests) uses its own.
    return str(current_app.config["IDENTITY_RATE_LIMIT"])


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
# Rate-limit headers on every answer cost a tenth of a cheap request; a 429 carries Retry-After.
limiter = Limiter(key_func=_rate_limit_key, headers_enabled=False, default_limits=[_configured_limit],
                  default_limits_exempt_when=lambda: request.blueprint in UNLIMITED_BLUEPRINTS)
