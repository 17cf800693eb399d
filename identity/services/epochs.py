"""Cross-process cache invalidation through change counters in the database.

Every process caches what is costly to look up (verified API keys, the keyring, token
states). A change that must be seen at once everywhere bumps its topic's counter in the
same transaction as the change; each request reads the counters first (one small query)
and drops any cache built under an older counter. Reading the counters *before* the data
is what makes this safe: data read after the counters is at least as new as they are.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import exc, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from identity.models import EPOCH_TOPICS, CacheEpoch

Epochs = dict[str, int]


_READ = "SELECT topic, counter FROM cache_epochs"


def read_epochs(session: Session) -> Epochs:
    """The counters, inside the session's transaction (the CLI's way)."""
    rows = session.connection().exec_driver_sql(_READ).all()
    return {topic: counter for topic, counter in rows}


class EpochReader:
    """Reads the counters for requests on a connection of its own, in autocommit.

    Every authenticated request reads them first. Through the session that was a transaction
    (BEGIN, SELECT, COMMIT, and on SQLite a write lock to keep away from) costing about a third
    of a cheap request; here it is one statement on a connection kept per thread. Reading them
    outside the request's transaction is safe for the same reason reading them first is: data
    read afterwards is at least as new as the counters.

    A dead connection (the database restarted, or dropped it) is replaced and the read run
    again; the engine's pool is disposed too, since its connections died with it, so the
    request's own statements start on fresh ones. This stands in for a ping on every checkout.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._errors: tuple[type[BaseException], ...] = (engine.dialect.loaded_dbapi.Error,)

    def read(self) -> Epochs:
        try:
            return self._read()
        except self._errors:
            self._discard()
            self._engine.dispose()
        try:
            return self._read()
        except self._errors as error:
            self._discard()
            # Raised as the engine would raise it, so callers see one kind of database failure
            # (the API answers it with 503) whichever path met it first.
            raise exc.DBAPIError.instance(_READ, None, error, Exception, hide_parameters=True) from error

    def _read(self) -> Epochs:
        cursor = self._connection().cursor()
        try:
            cursor.execute(_READ)
            return {topic: counter for topic, counter in cursor.fetchall()}
        finally:
            cursor.close()

    def _connection(self) -> Any:
        connection: Any = getattr(self._local, "connection", None)
        if connection is None:
            pooled = self._engine.raw_connection()  # runs the engine's connect hooks (SQLite pragmas)
            connection = pooled.dbapi_connection
            pooled.detach()  # ours for good: never handed to a request, never left in a transaction
            if self._engine.dialect.name != "sqlite":  # SQLite's connections already autocommit (engine_behaviour.py)
                connection.autocommit = True
            self._local.connection = connection
        return connection

    def _discard(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            try:
                connection.close()
            except self._errors:
                pass


def bump(session: Session, topic: str) -> None:
    if topic not in EPOCH_TOPICS:
        raise ValueError(f"unknown epoch topic {topic}")
    session.execute(update(CacheEpoch).where(CacheEpoch.topic == topic).values(counter=CacheEpoch.counter + 1))


def ensure_epoch_rows(session: Session) -> None:
    existing = set(session.scalars(select(CacheEpoch.topic)))
    for topic in EPOCH_TOPICS:
        if topic not in existing:
            session.add(CacheEpoch(topic=topic, counter=0))
    session.flush()
