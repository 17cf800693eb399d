"""One transaction per request, in the mode its route declares: committed when the response is
a success, rolled back otherwise.

Every route says how it uses the database with `@transaction(READS)` or `@transaction(WRITES)`,
anywhere in its decorator stack (the mode is kept on the innermost function, which every
decorator of the service and of flask-smorest wraps with `functools.wraps`). `init_transactions`
refuses to start when a route declares no mode or two, so the mode is never implied by the HTTP
method or by a decorator's position.

The mode matters on SQLite: WRITES begins `BEGIN IMMEDIATE` (the write lock, after the writer's
turn, see identity/engine_behaviour.py), READS begins deferred, so readers never queue behind writers. A READS
route that writes anyway fails on SQLite's lock rather than silently queueing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, g, request

from identity.engine_behaviour import set_read_only
from identity.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
_MODE = "_identity_transaction"


class Transaction(enum.Enum):
    READS = "reads"
    WRITES = "writes"


READS = Transaction.READS
WRITES = Transaction.WRITES
# Endpoints that are not the service's routes: Flask's static files, flask-smorest's own document.
FOREIGN_ENDPOINTS = ("static", "api-docs.")


def innermost(view: Callable[..., Any]) -> Callable[..., Any]:
    while hasattr(view, "__wrapped__"):
        view = view.__wrapped__
    return view


def transaction(mode: Transaction) -> Callable[[F], F]:
    """Declare the route's transaction mode (see the module doc)."""
    def declare(view: F) -> F:
        target = innermost(view)
        declared = getattr(target, _MODE, mode)
        if declared is not mode:
            raise TypeError(f"{target.__qualname__} declares two transaction modes: {declared.value}, {mode.value}")
        setattr(target, _MODE, mode)
        return view

    return declare


def declared_modes(app: Flask) -> dict[str, Transaction]:
    """Each endpoint's mode; TypeError naming the routes that declare none."""
    modes: dict[str, Transaction] = {}
    undeclared = []
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith(FOREIGN_ENDPOINTS):
            continue
        mode = getattr(innermost(view), _MODE, None)
        if mode is None:
            undeclared.append(endpoint)
        else:
            modes[endpoint] = mode
    if undeclared:
        raise TypeError(f"routes without @transaction(READS | WRITES): {', '.join(sorted(undeclared))}")
    return modes


def init_transactions(app: Flask) -> None:
    """After every blueprint is registered: the modes are read once, here."""
    read_only = {endpoint: mode is READS for endpoint, mode in declared_modes(app).items()}

    @app.before_request
    def _choose_transaction_mode() -> None:
        # An unmatched request (404, 405) reaches no view: it reads, if anything.
        g.read_only_token = set_read_only(read_only.get(request.endpoint, True))  # type: ignore[arg-type]

    @app.after_request
    def _commit_or_roll_back(response: Response) -> Response:
        if not db.session.registry.has():
            return response  # no session was opened: nothing to end (/healthz, a cache hit)
        if not db.session().in_transaction():
            return response
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _reset_mode(_error: BaseException | None) -> None:
        token = g.pop("read_only_token", None)
        if token is not None:
            token.var.reset(token)
