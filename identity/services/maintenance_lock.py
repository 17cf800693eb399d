"""One maintenance job at a time: a named lock row with an owner and a heartbeat.

The rule, which the runbook repeats:

- The owner is `host:pid:nonce`. Acquiring inserts the row, or takes it over when the holder
  is gone. A holder is gone when it ran on this host and its pid no longer exists (a rotation
  killed with SIGKILL can be run again at once), or when its heartbeat is older than
  `STALE_AFTER_SECONDS` (a holder on another host, or a hung one).
- The holder refreshes the heartbeat in the same transaction as every batch it writes, and
  that refresh names the owner: a holder whose lock was taken over finds no row to refresh and
  stops before its batch commits. So two processes never both write progress.
- The holder deletes the row when it stops, whether it finished or failed.

Each step runs in its own short transaction (`UnitOfWork`), so the lock is visible to every
other process as soon as it is taken.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.clock import utc_now
from identity.errors import OperatorError
from identity.models import MaintenanceLock

# A live holder heartbeats with every batch (a second or less); two minutes of silence means
# it is hung or its host is gone.
STALE_AFTER_SECONDS = 120
KEYS_LOCK = "keys"

UnitOfWork = Callable[[], AbstractContextManager[Session]]


class LockHeld(OperatorError):
    """Another live process holds the lock."""


class LockLost(OperatorError):
    """This process's lock was taken over (it was presumed dead); it must stop writing."""


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def holder_is_gone(owner: str, heartbeat_at: datetime, now: datetime,
                   stale_after: float = STALE_AFTER_SECONDS) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname() and pid_text.isdigit() and not _pid_alive(int(pid_text)):
        return True
    return (now - heartbeat_at).total_seconds() > stale_after


def acquire(session: Session, name: str, owner: str, *, now: datetime | None = None,
            stale_after: float = STALE_AFTER_SECONDS) -> str | None:
    """Take the lock or raise `LockHeld`; returns the previous owner when it was taken over."""
    now = now or utc_now()
    query = select(MaintenanceLock).where(MaintenanceLock.name == name).with_for_update()
    row = session.scalars(query).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(MaintenanceLock(name=name, owner=owner, acquired_at=now, heartbeat_at=now))
                session.flush()
            return None
        except IntegrityError:
            # Another process inserted it first; wait for its transaction and look again.
            row = session.scalars(query.execution_options(populate_existing=True)).one()
    if row.owner == owner:
        row.heartbeat_at = now
        session.flush()
        return None
    if not holder_is_gone(row.owner, row.heartbeat_at, now, stale_after):
        age = int((now - row.heartbeat_at).total_seconds())
        raise LockHeld(f"another key operation is running (holder {row.owner}, heartbeat {age}s ago); "
                       f"wait for it to finish, or run again once it has stopped")
    previous = row.owner
    row.owner, row.acquired_at, row.heartbeat_at = owner, now, now
    session.flush()
    return previous


def heartbeat(session: Session, name: str, owner: str, *, now: datetime | None = None) -> None:
    """Refresh the lock in the caller's transaction; raises `LockLost` if another process took it."""
    result = session.execute(update(MaintenanceLock)
                             .where(MaintenanceLock.name == name, MaintenanceLock.owner == owner)
                             .values(heartbeat_at=now or utc_now())
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LockLost("this process's maintenance lock was taken over by another process; stopping")


def release(session: Session, name: str, owner: str) -> None:
    session.execute(delete(MaintenanceLock)
                    .where(MaintenanceLock.name == name, MaintenanceLock.owner == owner)
                    .execution_options(synchronize_session=False))


def current_holder(session: Session, name: str) -> MaintenanceLock | None:
    return session.get(MaintenanceLock, name)


@contextmanager
def held(uow: UnitOfWork, name: str, owner: str) -> Iterator[str | None]:
    """Hold the lock for the body; yields the owner it was taken over from, if any."""
    with uow() as session:
        previous = acquire(session, name, owner)
    try:
        yield previous
    finally:
        with uow() as session:
            release(session, name, owner)
