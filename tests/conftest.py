"""Fixtures: a migrated database per test (SQLite, or PostgreSQL when
IDENTITY_TEST_DATABASE_URL is set), the app, its test client and CLI runner, and factories
for platforms and API keys.

The schema is migrated once per session into a template (an SQLite file, or a PostgreSQL
template database); each test gets a fresh copy, so tests may commit, rotate keys and
kill processes without affecting one another.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from identity import create_app
from identity.settings import TEST_ARGON2, Settings
from tests.support.clock import FrozenClock
from tests.support.serving import running_app

PG_URL = os.environ.get("IDENTITY_TEST_DATABASE_URL")


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    url = make_url(PG_URL).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def make_settings(instance: Path, database_url: str, root_key_file: Path, **overrides: Any) -> Settings:
    env = {"IDENTITY_INSTANCE_PATH": str(instance), "IDENTITY_DATABASE_URL": database_url,
           "IDENTITY_ROOT_KEY_FILE": str(root_key_file), "IDENTITY_RATE_LIMIT": "100000 per minute"}
    return Settings.from_env(env, argon2=TEST_ARGON2, testing=True, **overrides)


def migrate(settings: Settings) -> None:
    app = create_app(settings)
    result = app.test_cli_runner().invoke(args=["admin", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from identity.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("template")
    root_keys = base / "root.keys"
    from identity.crypto.root_keys import generate_root_key_file

    generate_root_key_file(root_keys)
    if PG_URL:
        name = f"identity_tmpl_{uuid.uuid4().hex[:10]}"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        migrate(make_settings(base, url, root_keys))
        yield {"root_keys": root_keys, "pg_template": name}
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        db_file = base / "template.sqlite3"
        migrate(make_settings(base, f"sqlite:///{db_file}", root_keys))
        yield {"root_keys": root_keys, "sqlite_file": db_file}


@pytest.fixture
def database_url(template: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        name = f"identity_t_{uuid.uuid4().hex[:12]}"
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template["pg_template"]}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        target = tmp_path / "identity.sqlite3"
        shutil.copyfile(template["sqlite_file"], target)
        yield f"sqlite:///{target}"


@pytest.fixture
def root_key_file(template: dict[str, Any], tmp_path: Path) -> Path:
    target = tmp_path / "root.keys"
    shutil.copyfile(template["root_keys"], target)
    target.chmod(0o600)
    return target


@pytest.fixture
def settings(tmp_path: Path, database_url: str, root_key_file: Path) -> Settings:
    return make_settings(tmp_path / "instance", database_url, root_key_file)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    with running_app(settings) as application:
        yield application


@pytest.fixture
def clock(app: Flask) -> FrozenClock:
    """The app's clock, frozen at the start of the test; `advance` and `set` move it."""
    frozen = FrozenClock()
    app.extensions["identity"].clock = frozen
    return frozen


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


ALL_SCOPES = ("registrations:write", "accounts:read", "accounts:write", "tokens:issue", "tokens:introspect",
              "sanctions:read", "sanctions:write")


class Platforms:
    """Onboards platforms and issues keys through the same services the admin CLI uses."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def create(self, name: str | None = None, **policy: Any) -> str:
        from identity.cli.command_boundary import keyring
        from identity.extensions import db
        from identity.services import platforms

        with self.app.app_context():
            platform = platforms.create_platform(db.session, keyring(), name or f"forum-{uuid.uuid4().hex[:8]}",
                                                 platforms.parse_policy(policy))
            db.session.commit()
            return platform.id

    def key(self, platform_id: str, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
        from identity.cli.command_boundary import keyring, runtime
        from identity.extensions import db
        from identity.services import platforms

        with self.app.app_context():
            _, raw = platforms.issue_api_key(db.session, keyring(), runtime().hasher, platform_id, list(scopes))
            db.session.commit()
            return raw

    def headers(self, platform_id: str, scopes: tuple[str, ...] = ALL_SCOPES) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(platform_id, scopes)}"}


@pytest.fixture
def platforms(app: Flask) -> Platforms:
    return Platforms(app)


@pytest.fixture
def platform(platforms: Platforms) -> str:
    return platforms.create("forum")


@pytest.fixture
def auth(platforms: Platforms, platform: str) -> dict[str, str]:
    return platforms.headers(platform)
