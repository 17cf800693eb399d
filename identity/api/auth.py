"""`Authorization: Bearer <api key>` and scopes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from identity.api.context import request_epochs, runtime
from identity.crypto.secrets import ParsedApiKey, parse_api_key
from identity.errors import Forbidden, Unauthorized
from identity.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

BEARER_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def bearer_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def presented_key() -> ParsedApiKey | None:
    """The request's API key, parsed (not verified) once for the rate limiter and for auth."""
    if "presented_key" not in g:
        raw = bearer_key()
        g.presented_key = parse_api_key(raw) if raw else None
    found: ParsedApiKey | None = g.presented_key
    return found


def rate_limit_key() -> str:
    """Limits count per API key id (parsed, not yet verified), else per client address."""
    parsed = presented_key()
    return f"key:{parsed.key_id}" if parsed else f"ip:{request.remote_addr}"


def require_scope(scope: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            parsed = presented_key()  # usually already parsed by the rate limiter
            if parsed is None and bearer_key() is None:
                raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
            found = (runtime().authenticator.authenticate(db.session(), parsed, request_epochs().get("auth", 0))
                     if parsed is not None else None)
            if found is None:
                raise Unauthorized("The API key is unknown, revoked, or its platform is disabled.")
            if scope not in found.scopes:
                raise Forbidden(f"This API key lacks the scope {scope}.")
            g.principal = found
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
