"""Telling "the database cannot be used right now" apart from a bug.

The server answers such a failure with 503 `service_unavailable` and `Retry-After`, the admin
CLI with one line; anything else stays an internal error. SQLite reports a missing table
(a schema that is behind) as an OperationalError too, which belongs here as well.
"""

from __future__ import annotations

from sqlalchemy import exc
from sqlalchemy.engine import make_url

from identity.schema_state import head_revision

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
# Seconds a client waits before trying again: long enough for a failover or a restart.
RETRY_AFTER_SECONDS = 5


def database_failure(error: BaseException) -> str:
    """One line: the driver's first line of explanation (never statement parameters: the engine
    hides them), e.g. `connection to server at "127.0.0.1", port 5432 failed: Connection refused`."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    first = lines[0].strip() if lines else type(cause).__name__
    return first[:200]


def unreachable_message(database_url: str, error: BaseException) -> str:
    where = make_url(database_url).render_as_string(hide_password=True)
    return (f"cannot use the database at {where} ({database_failure(error)}); "
            "check IDENTITY_DATABASE_URL and that the database is running")


def schema_behind_message(revision: str | None) -> str:
    return (f"the database schema is at revision {revision or 'none'} and this version needs "
            f"{head_revision()}; run `identity-admin db upgrade`")
