"""How admin commands report: a line for people, exactly one JSON object with --json, a
one-line reason and a non-zero exit on failure. One transaction per command."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from flask import current_app

from identity.crypto.keyring import Keyring
from identity.errors import DomainError, KeyringError, OperatorError
from identity.extensions import db
from identity.runtime import Runtime
from identity.services import epochs

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Outcome:
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    exit_code: int = 0


def runtime() -> Runtime:
    return current_app.extensions["identity"]


def keyring() -> Keyring:
    return runtime().keyring_cache.get(db.session(), epochs.read_epochs(db.session()).get("keys", 0))


def _fail(reason: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": reason}, ensure_ascii=False))
    else:
        click.echo(f"error: {reason}", err=True)
    raise SystemExit(1)


def operator_command(command: F) -> F:
    """Adds --json, commits on success, rolls back and reports one line on a known failure."""

    @click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
    @functools.wraps(command)
    def wrapper(*args: Any, as_json: bool, **kwargs: Any) -> None:
        try:
            outcome: Outcome = command(*args, **kwargs)
            db.session.commit()
        except (OperatorError, DomainError, KeyringError) as error:
            db.session.rollback()
            _fail(str(error), as_json)
            return
        if as_json:
            click.echo(json.dumps(outcome.data, ensure_ascii=False, default=str))
        else:
            click.echo(outcome.text)
        if outcome.exit_code:
            raise SystemExit(outcome.exit_code)

    return wrapper  # type: ignore[return-value]


def operator_option(command: F) -> F:
    """`--operator NAME` (or IDENTITY_OPERATOR): who does a disclosure step, a hold or an assessment."""
    return click.option("--operator", "operator", envvar="IDENTITY_OPERATOR", default=None, metavar="NAME",
                        help="Your operator name (default: IDENTITY_OPERATOR).")(command)
