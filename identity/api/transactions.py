"""One transaction per request: committed when the response is a success, rolled back otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, g, request

from identity.engine_behaviour import set_read_only
from identity.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def writes(view: F) -> F:
    """Mark a GET view that writes (an audit event) so SQLite begins it as a write transaction."""
    view._identity_writes = True  # type: ignore[attr-defined]
    return view


def reads_only(view: F) -> F:
    """Mark a POST view that only reads (token issue, introspection): on SQLite a POST otherwise
    begins `BEGIN IMMEDIATE` (the write lock), and these hot reads must not queue behind each
    other for it. They ignore `Idempotency-Key` (a token answer is never stored), so nothing
    ever makes them write."""
    view._identity_reads_only = True  # type: ignore[attr-defined]
    return view


def _reads_only(view: object) -> bool:
    if request.method in SAFE_METHODS:
        return not getattr(view, "_identity_writes", False)
    return bool(getattr(view, "_identity_reads_only", False))


def init_transactions(app: Flask) -> None:
    @app.before_request
    def _choose_transaction_mode() -> None:
        g.read_only_token = set_read_only(_reads_only(app.view_functions.get(request.endpoint or "")))

    @app.after_request
    def _commit_or_roll_back(response: Response) -> Response:
        if not db.session().in_transaction():
            return response  # nothing was read or written through the session (a cache hit)
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
