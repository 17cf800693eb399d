"""Is the database schema at the version this code expects?"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from identity.extensions import db

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def database_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def schema_is_current(app: Flask) -> bool:
    """Cached once true: a running process never sees its schema go backwards."""
    if app.config.get("_IDENTITY_SCHEMA_CURRENT"):
        return True
    current = database_revision() == head_revision()
    if current:
        app.config["_IDENTITY_SCHEMA_CURRENT"] = True
    return current
