"""Flask extensions, created unbound and bound to an app in `create_app`."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from identity.models.base import Base

# Routes that are never rate limited: probes, metrics and the API documents (/openapi.json, /docs).
UNLIMITED_BLUEPRINTS = ("health", "api-docs", "docs")


db = SQLAlchemy(model_class=Base)
migrate = Migrate()

