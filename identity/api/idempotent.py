"""The `Idempotency-Key` decorator for POST routes (see identity.services.idempotency)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, make_response, request
from sqlalchemy.exc import IntegrityError

from identity.api.context import current_keyring, current_time, principal, runtime
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


def _replay(stored: idempotency.StoredResponse) -> Response:
    response = Response(stored.body, status=stored.status_code, mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: F) -> F:
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
            return idempotency.lookup(db.session(), platform_id, key, fingerprint, current_time())

        stored = committed_response()
        if stored is not None:
            return _replay(stored)
        try:
            response = make_response(view(*args, **kwargs))
        except DomainError:
            # A concurrent request with the same key may have won; if so, answer as it did.
            db.session.rollback()
            stored = committed_response()
            if stored is not None:
                return _replay(stored)
            raise
        if 200 <= response.status_code < 300:
            ttl = runtime().settings.idempotency_ttl_seconds
            try:
                with db.session.begin_nested():
                    idempotency.remember(db.session(), platform_id, key, fingerprint, idempotency.StoredResponse(
                        response.status_code, response.get_data(as_text=True), response.headers.get("Location")),
                        current_time(), ttl)
            except IntegrityError:
                db.session.rollback()  # the other request committed first: its response stands
                stored = committed_response()
                if stored is not None:
                    return _replay(stored)
                raise
        return response

    wrapper._identity_idempotent = True  # type: ignore[attr-defined]  # the document names the header
    return wrapper  # type: ignore[return-value]
