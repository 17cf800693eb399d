"""`X-Request-Id`: taken from the request when it is sane, made otherwise, sent back on every
response and put on every log line of the request.

A WSGI middleware rather than Flask hooks: it answers for every response, those of error
handlers and of requests that never reach a view included, at the cost of a header lookup.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from identity.log_paths import REQUEST_ID_ENVIRON_KEY
from identity.logging_setup import current_request_id

HEADER = "X-Request-Id"
# Visible ASCII, at most 128 characters: what a proxy or a platform's tracing sends. Anything
# else (control characters that could forge log lines, kilobytes of junk) is replaced.
_SANE = re.compile(r"[\x21-\x7e]{1,128}")


class RequestIdMiddleware:
    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sent = environ.get("HTTP_X_REQUEST_ID")
        request_id = sent if sent is not None and _SANE.fullmatch(sent) else secrets.token_hex(16)
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
