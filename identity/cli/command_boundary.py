"""The CLI's command boundary: each admin command runs in one transaction, committed here, and
reports a line for people, exactly one JSON object with --json, a one-line reason and a
non-zero exit on failure."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn, TypeVar

import click
from flask import current_app
from sqlalchemy.orm import Session

from identity.availability import DATABASE_UNAVAILABLE, schema_behind_message, unreachable_message
from identity.crypto.keyring import Keyring
from identity.errors import DomainError, KeyringError, OperatorError
from identity.extensions import db
from identity.process_state import Runtime
from identity.schema_state import database_revision, head_revision
from identity.services import epochs

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Outcome:
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    exit_code: int = 0


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One short transaction inside a long command (a batch, a claim): commits when the block
    ends, rolls back if it raises. The shape `services/maintenance_lock.UnitOfWork` expects."""
    session = db.session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def runtime() -> Runtime:
    return current_app.extensions["identity"]


def current_time() -> datetime:
    """The runtime's clock: what every command hands to services as `now`."""
    return runtime().clock.now()


def keyring() -> Keyring:
    return runtime().keyring_cache.get(epochs.read_epochs(db.session()).get("keys", 0), db.session())


def fail(code: str, message: str) -> NoReturn:
    """Report a failure as one line on stderr, or with --json as one JSON object
    `{"error": {"code", "message"}}` on stdout, and exit 1."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.params.get("as_json"):
        click.echo(json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False))
    else:
        click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def _error_code(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.code
    if isinstance(error, KeyringError):
        return "keys_unavailable"
    if isinstance(error, OperatorError):
        return error.code
    return "command_failed"


def unexpected(error: Exception) -> str:
    """The one line an unexpected failure gets: its class, never its message, which may quote
    personal data (a driver error repeats the statement's values; a decryption error, a field)."""
    return f"unexpected {type(error).__name__}; its message is not shown, as it may contain personal data"


def _require_current_schema() -> None:
    revision = database_revision()
    if revision != head_revision():
        fail("schema_behind", schema_behind_message(revision))


def _roll_back_quietly() -> None:
    try:
        db.session.rollback()
    except DATABASE_UNAVAILABLE:
        pass  # the connection is gone; there is nothing left to undo


def operator_command(command: F | None = None, *, needs_current_schema: bool = True) -> Any:
    """Adds --json, commits on success, rolls back and reports one line on a known failure.

    Before the command, the schema must be current (except for `db upgrade`, which makes it so):
    a command on an older schema would fail halfway with an SQL error instead.
    """

    def decorate(command: F) -> F:
        @click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
        @functools.wraps(command)
        def wrapper(*args: Any, as_json: bool, **kwargs: Any) -> None:
            try:
                if needs_current_schema:
                    _require_current_schema()
                outcome: Outcome = command(*args, **kwargs)
                db.session.commit()
            except (OperatorError, DomainError, KeyringError) as error:
                db.session.rollback()
                fail(_error_code(error), str(error))
            except DATABASE_UNAVAILABLE as error:
                _roll_back_quietly()
                fail("database_unavailable", unreachable_message(runtime().settings.database_url, error))
            except (click.ClickException, click.Abort):
                raise  # click's own: a usage error or an aborted prompt, reported by click
            except Exception as error:  # noqa: BLE001 - anything else is one line, never a traceback
                _roll_back_quietly()
                fail("command_failed", f"the command failed and nothing was committed: {unexpected(error)}")
            if as_json:
                click.echo(json.dumps(outcome.data, ensure_ascii=False, default=str))
            else:
                click.echo(outcome.text)
            if outcome.exit_code:
                raise SystemExit(outcome.exit_code)

        return wrapper  # type: ignore[return-value]

    return decorate(command) if command is not None else decorate


def operator_option(command: F) -> F:
    """`--operator NAME` (or IDENTITY_OPERATOR): who does a disclosure step, a hold or an assessment."""
    return click.option("--operator", "operator", envvar="IDENTITY_OPERATOR", default=None, metavar="NAME",
                        help="Your operator name (default: IDENTITY_OPERATOR).")(command)
