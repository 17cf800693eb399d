"""Helpers for the key rotation tests: seed persons, run `identity-admin keys …`, read the rows back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import create_engine, select, text

from identity.settings import Settings
from tests.support.seeding import seed_people

REPO = Path(__file__).resolve().parents[2]


def seed(app: Flask, count: int, **options: Any) -> None:
    from identity.cli.command_boundary import keyring
    from identity.extensions import db

    with app.app_context():
        seed_people(db.session(), keyring(), count, **options)
        db.session.commit()


def keys(runner: FlaskCliRunner, *args: str) -> Result:
    return runner.invoke(args=["admin", "keys", *args])


def keys_json(runner: FlaskCliRunner, *args: str) -> tuple[int, dict[str, Any]]:
    result = keys(runner, *args, "--json")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout  # exactly one JSON object on stdout
    return result.exit_code, json.loads(lines[0])


def rows(app: Flask, statement: Any) -> list[Any]:
    from identity.extensions import db

    with app.app_context():
        result = db.session.execute(statement).all()
        db.session.rollback()
        return list(result)


def admin_env(settings: Settings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IDENTITY_")}
    env.update(IDENTITY_DATABASE_URL=settings.database_url, IDENTITY_ROOT_KEY_FILE=str(settings.root_key_file),
               IDENTITY_INSTANCE_PATH=str(settings.instance_path), IDENTITY_LOG_LEVEL="WARNING")
    return env


def spawn_admin(settings: Settings, *args: str) -> subprocess.Popen[str]:
    """`identity-admin ARGS` as a real process, as an operator would run it."""
    return subprocess.Popen([sys.executable, "-c", "from identity.cli import main; main()", *args],
                            env=admin_env(settings), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def run_admin(settings: Settings, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from identity.cli import main; main()", *args],
                          env=admin_env(settings), cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          check=False)


def wait_for_progress(settings: Settings, process: subprocess.Popen[str], *, at_least: int = 1,
                      timeout: float = 60) -> int:
    """Poll rotation_jobs from another connection until the running job has committed progress."""
    engine = create_engine(settings.database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                processed = conn.execute(text("SELECT processed FROM rotation_jobs WHERE state = 'running'")).scalar()
            if processed is not None and processed >= at_least:
                return int(processed)
            if process.poll() is not None:
                raise AssertionError(f"the rotation ended before making progress: {process.communicate()}")
            time.sleep(0.005)
        raise AssertionError("no rotation progress in time")
    finally:
        engine.dispose()


def versions(app: Flask, column: Any) -> dict[int | None, int]:
    from sqlalchemy import func

    return {version: count for version, count in rows(app, select(column, func.count()).group_by(column))}
