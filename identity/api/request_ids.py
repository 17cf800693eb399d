"""`X-Request-Id`: taken from the request when it is sane, made otherwise, sent back on every
response and put on every log line of the request; and the route template for the access log.

A WSGI middleware rather than Flask hooks: it answers for every response, those of error
handlers and of requests that never reach a view included, at the cost of a header lookup.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request

from identity.log_paths import REQUEST_ID_ENVIRON_KEY, ROUTE_ENVIRON_KEY, loggable_unrouted_path, route_template
from identity.logging_setup import current_request_id

HEADER = "X-Request-Id"
# Visible ASCII, at most 128 characters: what a proxy or a platform's tracing sends. Anything
# else (control characters that could forge log lines, kilobytes of junk) is replaced.
_SANE = re.compile(r"[\x21-\x7e]{1,128}")


def new_request_id() -> str:
    return secrets.token_hex(16)


def sane_request_id(value: str | None) -> str | None:
    return value if value is not None and _SANE.fullmatch(value) else None


class RequestIdMiddleware:
    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = sane_request_id(environ.get("HTTP_X_REQUEST_ID")) or new_request_id()
        environ[REQUEST_ID_ENVIRON_KEY] = request_id  # for gunicorn's access log line

        def start_with_id(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers.append((HEADER, request_id))
            return start_response(status, headers, exc_info)

        token = current_request_id.set(request_id)
        try:
            return self.wsgi_app(environ, start_with_id)
        finally:
            current_request_id.reset(token)


def init_request_ids(app: Flask) -> None:
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    literal_segments: frozenset[str] | None = None

    @app.after_request
    def _record_route(response: Response) -> Response:
        # The access log is written after Flask dropped the request: leave it the route template
        # (`/v1/accounts/{pseudonym}`), never the path, which holds pseudonyms and other ids.
        nonlocal literal_segments
        rule = request.url_rule
        if rule is not None:
            request.environ[ROUTE_ENVIRON_KEY] = route_template(rule.rule)
        else:
            if literal_segments is None:
                literal_segments = frozenset(segment for r in app.url_map.iter_rules()
                                             for segment in r.rule.split("/") if segment and "<" not in segment)
            request.environ[ROUTE_ENVIRON_KEY] = loggable_unrouted_path(request.path, literal_segments)
        return response
