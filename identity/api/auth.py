"""`Authorization: Bearer <api key>` and scopes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from identity.api.request_scope import request_epochs, request_session, runtime
from identity.crypto.secrets import ParsedApiKey, parse_api_key
from identity.errors import Forbidden, RateLimited, Unauthorized
from identity.ratelimit import RateLimits
from identity.services.authentication import Principal

F = TypeVar("F", bound=Callable[..., Any])

BEARER_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def bearer_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def presented_key() -> ParsedApiKey | None:
    """The request's API key, parsed (not verified)."""
    raw = bearer_key()
    return parse_api_key(raw) if raw else None


def rate_limits() -> RateLimits:
    return runtime().rate_limits


def client_address() -> str:
    """The WSGI REMOTE_ADDR: the peer, or the client a trusted proxy names (IDENTITY_TRUSTED_PROXIES)."""
    return request.remote_addr or "unknown"


def authenticate() -> Principal:
    """The verified caller. A failure counts against the client's address, never against the
    key id it presented; past the address's failure limit the answer is 429, and no argon2
    verification runs for that address until the window ends."""
    parsed, limits, address = presented_key(), rate_limits(), client_address()
    found = None
    if parsed is not None:
        found = runtime().authenticator.authenticate(request_session(), parsed, request_epochs().get("auth", 0),
                                                     may_hash=lambda: limits.auth_failures_left(address))
    if found is None:
        retry_after = limits.hit_auth_failure(address)
        if retry_after is not None:
            raise RateLimited(retry_after=retry_after)
        if parsed is None and bearer_key() is None:
            raise Unauthorized("Send an API key as `Authorization: Bearer <key>`.")
        raise Unauthorized("The API key is unknown, revoked, or its platform is disabled.")
    return found


def require_scope(scope: str | None) -> Callable[[F], F]:
    """A verified API key with `scope`; with None, any valid key whatever its scopes."""
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = authenticate()
            retry_after = rate_limits().hit_caller(f"key:{found.key_id}")
            if retry_after is not None:
                raise RateLimited(retry_after=retry_after)
            if scope is not None and scope not in found.scopes:
                raise Forbidden(f"This API key lacks the scope {scope}.")
            g.principal = found
            return view(*args, **kwargs)

        wrapper._identity_authenticated = True  # type: ignore[attr-defined]  # limited per key, not address
        wrapper._identity_scope = scope  # type: ignore[attr-defined]  # read by the OpenAPI document
        return wrapper  # type: ignore[return-value]

    return decorator
