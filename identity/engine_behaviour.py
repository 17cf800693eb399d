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

Erasure (contract, "Erasure"): every connection runs with `secure_delete`, so a deleted row
or index entry is overwritten with zeros in its page rather than left in free space, and
`temp_store=MEMORY`, so statement journals never put page images in a temporary file. In WAL
mode that is not enough: the old page images stay in earlier WAL frames, and in the main file
until a checkpoint copies the new ones over them. A transaction that erases something marks
itself with `scrub_after_commit`; once it commits, the WAL is checkpointed with TRUNCATE, so
before the request answers the main file holds only the overwritten pages and the WAL is
empty. Files are created 0600 (the WAL and shared-memory files take the main file's mode).
"""

from __future__ import annotations

import contextvars
import fcntl
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger("identity.engine_behaviour")

_SCRUB = "identity_scrub_after_commit"
# How long an erasure's checkpoint waits for readers of older snapshots to finish. It holds
# the WAL's write lock meanwhile, so writers wait too: bounded well below the busy timeout.
SCRUB_WAIT_MS = 5000
BUSY_TIMEOUT_MS = 30000

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


def scrub_after_commit(session: Session) -> None:
    """Ask that what this transaction deleted leave the database's files as soon as it commits.

    For erasures and key retirements. Nothing to do on PostgreSQL, whose dead row versions are
    out of the service's reach (docs/key-rotation.md, "What erasure guarantees").
    """
    session.info[_SCRUB] = True


@event.listens_for(Session, "after_commit")
def _scrub_committed(session: Session) -> None:
    if not session.info.pop(_SCRUB, False):
        return
    engine = session.get_bind()
    if not (isinstance(engine, Engine) and engine.dialect.name == "sqlite"):
        return
    try:
        checkpoint_truncate(engine)
    except (sqlite3.Error, SQLAlchemyError) as error:
        # The erasure itself is committed: failing the answer now would only make the client
        # retry something already done. The next erasure or retirement checkpoints again.
        log.warning("the WAL checkpoint after an erasure failed (%s); erased pages stay in the WAL "
                    "until the next checkpoint", type(error).__name__)


@event.listens_for(Session, "after_rollback")
def _forget_scrub(session: Session) -> None:
    session.info.pop(_SCRUB, None)


def checkpoint_truncate(engine: Engine) -> bool:
    """Copy every committed page into the main file and empty the WAL. False if readers of an
    older snapshot kept it from finishing within SCRUB_WAIT_MS (the next one finishes the job)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SCRUB_WAIT_MS}")
        try:
            busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        raw.close()
    if busy:
        log.warning("the WAL checkpoint after an erasure did not finish: readers of an older snapshot "
                    "held it for %d ms; erased pages stay in the WAL until the next checkpoint", SCRUB_WAIT_MS)
    return not busy


def make_private(database: str) -> None:
    """Create the SQLite file 0600 if it does not exist yet (an empty file is an empty database),
    and take group and other access from it and its WAL and shared-memory files if they exist:
    SQLite would create it 0644 under the usual umask, and those files copy the main file's mode."""
    try:
        os.close(os.open(database, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
        return
    except FileExistsError:
        pass
    except OSError:
        return  # e.g. its folder is missing or not a folder: SQLite's own open reports it (as unavailable)
    for path in (database, f"{database}-wal", f"{database}-shm"):
        try:
            if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
                os.chmod(path, 0o600)
        except FileNotFoundError:
            continue


def engine_options(database_url: str) -> dict[str, Any]:
    # hide_parameters: a failing statement's bound values (ciphertexts, indexes) never reach
    # an exception message or a log line.
    options: dict[str, Any] = {"hide_parameters": True}
    if database_url.startswith("sqlite"):
        # No pre-ping: a file database cannot drop a connection.
        options["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False,
                                   "factory": TurnTakingConnection}
    else:
        # No pre-ping either: a request's first statement (the epoch read) retries once on a
        # fresh connection when the pooled one is dead (services/epochs.EpochReader), at no cost
        # per request.
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

    if file_backed:
        @event.listens_for(engine, "do_connect")
        def _private_files(*_args: Any) -> None:
            make_private(database)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")
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
