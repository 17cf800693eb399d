"""The database-specific half of a rotation batch, behind one adapter chosen once per run.

A batch reads rows by a locator in order, and writes (new value, version, locator, old value)
rows back compare-and-set. How to address rows and how to write thousands of them fastest
differs by database; nothing else in the rotation does.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import String, cast, literal_column, text, type_coerce
from sqlalchemy.orm import Session

from identity.errors import OperatorError
from identity.services.key_rotation.common import RecordKind, persons


class BulkRows:
    """The default: rows addressed by primary key, written by one DBAPI executemany."""

    _where_column = "id"

    def locator(self) -> Any:
        return persons.c.id

    def parse_cursor(self, raw: str | None) -> Any:
        return None if raw is None else uuid.UUID(raw)

    def id_column(self) -> Any:
        """The person id as text: rotation needs it only to build associated data, and parsing a
        UUID object per row costs more than the row's cryptography."""
        return cast(persons.c.id, String).label("id")

    def begin_batch(self, session: Session) -> None:
        """Anything the batch's transaction should set first."""

    def write(self, session: Session, spec: RecordKind, params: list[tuple[Any, ...]]) -> None:
        session.connection().exec_driver_sql(self._update_sql(session, spec), params)

    def _update_sql(self, session: Session, spec: RecordKind) -> str:
        """One compare-and-set UPDATE, run as a plain DBAPI executemany: no per-row work in SQLAlchemy."""
        dialect = session.get_bind().dialect
        if dialect.paramstyle == "qmark":
            mark = "?"
        elif dialect.paramstyle in ("format", "pyformat"):
            mark = "%s"
        else:
            raise OperatorError(f"key rotation does not support the {dialect.name} driver's parameter style")
        assignments = f"{spec.value_column} = {mark}, {spec.version_column} = {mark}"
        compare_and_set = f"{self._where_column} = {mark} AND {spec.value_column} = {mark}"
        return f"UPDATE persons SET {assignments} WHERE {compare_and_set}"  # noqa: S608 - fixed names # nosec B608


class SqliteRows(BulkRows):
    """On SQLite a batch addresses its rows by `rowid`, the table's own B-tree: updating 2,000 rows
    by rowid is about four times faster than through the UUID primary key's index. A rowid read
    is written back in the same transaction, so it cannot change in between; the job's cursor
    outlives it, and should a VACUUM renumber rows between two runs the forward pass may skip
    some, which the sweep then moves."""

    _where_column = "rowid"

    def locator(self) -> Any:
        return literal_column("rowid")

    def parse_cursor(self, raw: str | None) -> Any:
        return None if raw is None else int(raw)

    def id_column(self) -> Any:
        return type_coerce(persons.c.id, String).label("id")  # stored as 32 hex digits


class PostgresRows(BulkRows):
    """The whole batch as one statement over arrays, instead of one statement per row (one plan,
    one round trip; about twice the throughput of a pipelined executemany)."""

    def begin_batch(self, session: Session) -> None:
        # A batch commit lost in a database crash takes the job's progress with it (same
        # transaction), and the resumed job simply moves those rows again: no need to wait
        # for the WAL flush on every batch.
        session.execute(text("SET LOCAL synchronous_commit = off"))

    def write(self, session: Session, spec: RecordKind, params: list[tuple[Any, ...]]) -> None:
        new, versions, locators, old = zip(*params, strict=True)
        session.connection().exec_driver_sql(_unnest_sql(spec), (versions[0], list(locators), list(old), list(new)))


def _unnest_sql(spec: RecordKind) -> str:
    """`%b` is psycopg's binary parameter format: bytea arrays go as they are, not escaped into text."""
    value, version = spec.value_column, spec.version_column
    return (f"UPDATE persons AS p SET {value} = v.new, {version} = %s "  # noqa: S608 - fixed names # nosec B608
            f"FROM unnest(%b::uuid[], %b::bytea[], %b::bytea[]) AS v(id, old, new) "
            f"WHERE p.id = v.id AND p.{value} = v.old")


def bulk_rows_for(session: Session) -> BulkRows:
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return SqliteRows()
    if name == "postgresql":
        return PostgresRows()
    return BulkRows()


def canonical_id(raw: str) -> str:
    """A person id as the rest of the service writes it (SQLite hands back 32 hex digits)."""
    if len(raw) == 32:
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return raw
