"""Engine behaviour that must be the same for the server, the CLI and the tests.

SQLite: WAL, foreign keys, a busy timeout, and write transactions that take the write lock
at BEGIN (`BEGIN IMMEDIATE`). Without that, two processes that both read and then write
fail with SQLITE_BUSY instead of waiting their turn. Read-only work (GET requests) marks
itself with `read_only_transactions()` and begins deferred, so readers never queue.

Writers also queue for their turn on an flock beside the database file (`WriterTurn`)
before BEGIN IMMEDIATE. SQLite's own busy handler polls with growing sleeps (up to 100 ms
a try), so a writer often sleeps on a lock that was freed long ago: under load that cost
most of the write throughput and put p99 in the hundreds of milliseconds. The kernel wakes
the next flock waiter the moment the turn is given back, at COMMIT or ROLLBACK. SQLite's
lock still decides who writes; the turn only orders the waiting.
"""

from __future__ import annotations

import contextvars
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

CONNECT_TIMEOUT_SECONDS = 5
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
    options: dict[str, Any] = {"hide_parameters": True}
    if database_url.startswith("sqlite"):
        # No pre-ping: a file database cannot drop a connection.
        options["connect_args"] = {"timeout": 30, "check_same_thread": False, "factory": TurnTakingConnection}
    else:
        # No pre-ping either: a request's first statement (the epoch read) retries once on a
        # fresh connection when the pooled one is dead (api/context.py), at no cost per request.
        options.update(pool_size=5, max_overflow=10, pool_recycle=1800)
        if "connect_timeout" not in make_url(database_url).query:
            # A database host that drops packets must not hold a worker for the kernel's TCP
            # timeout (minutes): give up after a few seconds and answer 503.
            options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return options


class WriterTurn:
    """One connection's place in the queue of writers to an SQLite file, across processes.

    An exclusive flock on `<database>-writer`, held from BEGIN IMMEDIATE to the end of the
    transaction. A thread that already holds a turn on another connection does not queue
    again (it would wait on itself); SQLite's busy handler then decides, as before.
    """

    _holders: set[int] = set()  # threads holding a turn, in this process
    _holders_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self._path = path
        self._fd: int | None = None
        self._owner: int | None = None

    def take(self) -> None:
        me = threading.get_ident()
        with self._holders_lock:
            if self._owner is not None or me in self._holders:
                return
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        with self._holders_lock:
            self._owner = me
            self._holders.add(me)

    def give_back(self) -> None:
        with self._holders_lock:
            if self._owner is None:
                return
            self._holders.discard(self._owner)
            self._owner = None
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.give_back()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class TurnTakingConnection(sqlite3.Connection):
    """A pysqlite connection that gives its writer turn back as soon as its transaction ends."""

    writer_turn: WriterTurn | None = None

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if self.writer_turn is not None:
                self.writer_turn.give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            if self.writer_turn is not None:
                self.writer_turn.give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.writer_turn is not None:
                self.writer_turn.close()


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database or ""
    file_backed = bool(database) and database != ":memory:" and not database.startswith("file:")

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
        if file_backed and isinstance(dbapi_connection, TurnTakingConnection):
            dbapi_connection.writer_turn = WriterTurn(f"{database}-writer")

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        if _read_only.get():
            connection.exec_driver_sql("BEGIN")
            return
        turn = getattr(connection.connection.dbapi_connection, "writer_turn", None)
        if turn is not None:
            turn.take()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if turn is not None:
                turn.give_back()
            raise
