"""Engine behaviour that must be the same for the server, the CLI and the tests.

SQLite: WAL, foreign keys, a busy timeout, and write transactions that take the write lock
at BEGIN (`BEGIN IMMEDIATE`). Without that, two processes that both read and then write
fail with SQLITE_BUSY instead of waiting their turn. Read-only work (GET requests) marks
itself with `read_only_transactions()` and begins deferred, so readers never queue.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

_read_only: contextvars.ContextVar[bool] = contextvars.ContextVar("identity_read_only_tx", default=False)


@contextmanager
def read_only_transactions() -> Iterator[None]:
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


def set_read_only(value: bool) -> contextvars.Token[bool]:
    return _read_only.set(value)


def engine_options(database_url: str) -> dict[str, Any]:
    # hide_parameters: a failing statement's bound values (ciphertexts, indexes) never reach
    # an exception message or a log line.
    options: dict[str, Any] = {"hide_parameters": True, "pool_pre_ping": True}
    if database_url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        options.update(pool_size=5, max_overflow=10, pool_recycle=1800)
    return options


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")
