"""RFC 9457 problem+json for every error the service answers.

Only known domain errors and HTTP errors become specific responses. Anything else is a
generic 500 whose body says nothing about the failure: an exception message may carry a
name or a number, so it is logged by type and traceback only, never echoed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from identity.availability import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, database_failure
from identity.errors import DomainError, RateLimited, ValidationFailed, VerificationUnavailable

log = logging.getLogger("identity.errors")
PROBLEM_MIME = "application/problem+json"
TYPE_BASE = "https://identity.example/problems/"

# The contract's codes for failures the HTTP layer raises before a view runs (tests/unit/test_error_catalogue.py
# keeps docs/errors.md in step with every code here).
_HTTP_CODES = {
    400: ("validation_failed", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_failed", "The request body is not valid"),
    429: ("rate_limited", "Too many requests"),
    503: ("service_unavailable", "Service unavailable"),
}
_HTTP_DETAILS = {
    404: "The requested resource does not exist.",
    405: "The method is not allowed for this resource.",
    413: "The request body is larger than 64 KiB.",
    415: "Requests with a body must be Content-Type: application/json.",
}


def problem(status: int, code: str, title: str, detail: str, *, errors: Mapping[str, list[str]] | None = None,
            extra: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail,
                            "code": code}
    if errors is not None:
        body["errors"] = dict(errors)
    for key, value in (extra or {}).items():
        if not key.startswith("_"):  # underscore keys are internal, never sent
            body[key] = value
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict -> the contract's dotted paths (`id_document.number`)."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "body"
            for inner, msgs in flatten_messages(value, path).items():
                flat.setdefault(inner, []).extend(msgs)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            flat[prefix or "body"] = [str(m) for m in messages]
        else:
            for item in messages:
                for inner, msgs in flatten_messages(item, prefix).items():
                    flat.setdefault(inner, []).extend(msgs)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


def domain_problem(error: DomainError) -> Response:
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="identity"'
    if isinstance(error, VerificationUnavailable | RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    errors = error.errors if isinstance(error, ValidationFailed) else None
    return problem(error.status, error.code, error.title, error.detail, errors=errors, extra=error.extra,
                   headers=headers)


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    code, title = _HTTP_CODES.get(status, ("http_error", error.name))
    headers: dict[str, str] = {}
    errors = None
    data = getattr(error, "data", None)
    if status in (400, 422) and isinstance(data, Mapping) and "messages" in data:
        # webargs/flask-smorest: {"messages": {"json": {...}, "query": {...}}}
        merged: dict[str, Any] = {}
        for location_messages in data["messages"].values():
            if isinstance(location_messages, Mapping):
                merged.update(location_messages)
        errors = flatten_messages(merged)
        status, code, title = 422, "validation_failed", _HTTP_CODES[422][1]
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    detail = _HTTP_DETAILS.get(status, "One or more fields are not valid." if errors else title)
    return problem(status, code, title, detail, errors=errors, headers=headers)


def database_unavailable(error: Exception) -> Response:
    # The driver's first line names the failure (refused, timed out, unable to open); the engine
    # hides statement parameters, so no personal data can be in it.
    log.warning("database unavailable: %s: %s", type(error).__name__, database_failure(error))
    return service_unavailable("The database cannot be reached; retry after the time in Retry-After.")


def service_unavailable(detail: str, retry_after: int = RETRY_AFTER_SECONDS, **extra: Any) -> Response:
    return problem(503, "service_unavailable", "Service unavailable", detail, extra=extra,
                   headers={"Retry-After": str(retry_after)})


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(HTTPException, http_problem)
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # The traceback names code lines only; the message of an unknown exception is not logged,
        # since it could carry personal data.
        log.error("unhandled %s", type(error).__name__, exc_info=(type(error), _Scrubbed(), error.__traceback__))
        return problem(500, "internal_error", "Internal server error", "The server could not complete the request.")


class _Scrubbed(Exception):
    """Stands in for an unknown exception in the log so its message (maybe personal data) is not written."""

    def __str__(self) -> str:
        return "(message withheld)"
