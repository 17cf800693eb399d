"""Commands that destroy something ask first: on a terminal, a yes/no question; otherwise
(a script, a pipe, a CI job) they need `--yes`, so nothing is destroyed by a command that
nobody answered."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from identity.errors import OperatorError

F = TypeVar("F", bound=Callable[..., Any])


def destroying(command: F) -> F:
    """Adds `--yes`; the command calls `confirm(question, yes)` once it knows what it would destroy."""
    return click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed when not on a terminal).")(
        command)


def on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def confirm(question: str, yes: bool) -> None:
    """Return when the operator agreed; otherwise raise a one-line reason (nothing was changed)."""
    if yes:
        return
    if not on_terminal():
        raise OperatorError("this command destroys something and stdin is not a terminal: pass --yes to confirm")
    if not click.confirm(question, default=False, err=True):
        raise OperatorError("not confirmed; nothing was changed")
