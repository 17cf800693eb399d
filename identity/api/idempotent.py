"""The `Idempotency-Key` decorator for POST routes (see identity.services.idempotency)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Response, make_response, request
from sqlalchemy.exc import IntegrityError

from identity.api.request_scope import current_keyring, current_time, principal, request_session, runtime
from identity.errors import DomainError
from identity.extensions import db
from identity.services import idempotency

F = TypeVar("F", bound=Callable[..., Any])


def _canonical_body() -> bytes:
    raw = request.get_data(cache=True)
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return raw


@dataclass(frozen=True)
class ShownOnce:
    """A response field shown once and never stored (a webhook endpoint's secret): the remembered
    response holds null in its place, and a replay asks `reveal` for it again from the answer."""

    field: str
    reveal: Callable[[dict[str, Any]], str | None]

    def withheld(self, body: str) -> str:
        document = json.loads(body)
        document[self.field] = None
        return json.dumps(document, separators=(",", ":"))

    def revealed(self, body: str) -> str:
        document = json.loads(body)
        document[self.field] = self.reveal(document)
        return json.dumps(document, separators=(",", ":"))


def _replay(stored: idempotency.StoredResponse, shown_once: ShownOnce | None = None) -> Response:
    body = shown_once.revealed(stored.body) if shown_once is not None else stored.body
    response = Response(body, status=stored.status_code, mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: F | None = None, *, shown_once: ShownOnce | None = None) -> Any:
    """Replays the first 2xx response to the same key and request (see the module docstring);
    `shown_once` names a field that is never stored (the replay reveals it again)."""
    if view is None:
        return functools.partial(idempotent, shown_once=shown_once)
    return _idempotent(view, shown_once)


def _idempotent(view: F, shown_once: ShownOnce | None) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return view(*args, **kwargs)
        idempotency.validate_key(key)
        platform_id = principal().platform_id
        fingerprint = idempotency.request_fingerprint(current_keyring(), request.method, request.path,
                                                     _canonical_body())

        def committed_response() -> idempotency.StoredResponse | None:
            return idempotency.lookup(request_session(), platform_id, key, fingerprint, current_time())

        stored = committed_response()
        if stored is not None:
            return _replay(stored, shown_once)
        try:
            response = make_response(view(*args, **kwargs))
        except DomainError:
            # A concurrent request with the same key may have won; if so, answer as it did.
            db.session.rollback()
            stored = committed_response()
            if stored is not None:
                return _replay(stored, shown_once)
            raise
        if 200 <= response.status_code < 300:
            ttl = runtime().settings.idempotency_ttl_seconds
            try:
                with db.session.begin_nested():
                    body = response.get_data(as_text=True)
                    if shown_once is not None:
                        body = shown_once.withheld(body)
                    idempotency.remember(request_session(), platform_id, key, fingerprint, idempotency.StoredResponse(
                        response.status_code, body, response.headers.get("Location")), current_time(), ttl)
            except IntegrityError:
                db.session.rollback()  # the other request committed first: its response stands
                stored = committed_response()
                if stored is not None:
                    return _replay(stored, shown_once)
                raise
        return response

    wrapper._identity_idempotent = True  # type: ignore[attr-defined]  # the document names the header
    return wrapper  # type: ignore[return-value]
