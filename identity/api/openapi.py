"""The OpenAPI document, complete enough to generate a client from.

flask-smorest documents what the marshmallow schemas say. What the service does around them
is added here, for every route alike, so that a route added later is documented the same way
without anyone writing it out again:

- an `operationId` from the view function's name (`get_account` -> `getAccount`);
- the scope a route requires (`require_scope`), as `x-required-scope`, bearer security and a
  sentence in the description;
- every error as RFC 9457 application/problem+json, with the `code` values each status can
  carry: the domain errors the route declares with `@raises(...)`, and those that apply to
  whole kinds of route (401/403/429 to authenticated ones, 413/415/422 to those with a body,
  503 to every route behind the database guard);
- the `Idempotency-Key` request header where `@idempotent` honours it, `Retry-After` on 429 and
  503, `WWW-Authenticate` on 401.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from apispec import BasePlugin

from identity.api.problems import PROBLEM_MIME
from identity.errors import (
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from identity.extensions import UNLIMITED_BLUEPRINTS

F = TypeVar("F", bound=Callable[..., Any])

_JSON = "application/json"
PROBLEM_REF = "#/components/schemas/Problem"
BEARER_SCHEME = "bearerAuth"
IDEMPOTENCY_HEADER = "Idempotency-Key"

# Failures of the HTTP layer that no domain exception stands for (see identity.api.problems).
PAYLOAD_TOO_LARGE = ("payload_too_large", 413, "The request body is larger than 64 KiB.")
UNSUPPORTED_MEDIA_TYPE = ("unsupported_media_type", 415, "A body in a media type the operation does not take.")
SERVICE_UNAVAILABLE = ("service_unavailable", 503, "The database cannot be reached or its schema is behind; "
                                                   "retry after Retry-After.")

_RETRY_AFTER = {"description": "Seconds until a retry may succeed (for 429: until the limit resets)",
                "schema": {"type": "integer", "minimum": 1}}
_WWW_AUTHENTICATE = {"description": "`Bearer realm=\"identity\"`", "schema": {"type": "string"}}


def raises(*errors: type[DomainError]) -> Callable[[F], F]:
    """Declare the domain errors a view can answer with; the document lists their codes per status.

    Errors that apply to a whole kind of route (authentication, bodies, the database guard) are
    added by the plugin and need not be declared.
    """

    def decorator(view: F) -> F:
        view._identity_raises = (*getattr(view, "_identity_raises", ()), *errors)  # type: ignore[attr-defined]
        return view

    return decorator


def operation_id(function_name: str) -> str:
    """`get_account` -> `getAccount`: readable and stable while the view keeps its name."""
    first, *rest = function_name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


class ProblemContentPlugin(BasePlugin):
    """Completes every operation as the module docstring says.

    `view_functions` is the Flask app's endpoint -> view map (filled before flask-smorest
    documents a blueprint), where the decorators leave their marks.
    """

    def __init__(self, view_functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.view_functions = view_functions if view_functions is not None else {}
        self._operation_ids: dict[str, str] = {}

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        endpoint: str = getattr(rule, "endpoint", "") or ""
        view = self.view_functions.get(endpoint)
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if endpoint:
                self._name(operation, endpoint, method, path)
            if view is not None:
                _describe_scope(operation, view)
                _document_errors(operation, view, guarded=endpoint.split(".", 1)[0] not in UNLIMITED_BLUEPRINTS)
            for status, response in operation["responses"].items():
                if _is_error(status) and isinstance(response, dict):
                    _as_problem(response)

    def response_helper(self, response: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # Shared responses (flask-smorest's DEFAULT_ERROR, UNPROCESSABLE_ENTITY, ...) are all errors.
        _as_problem(response)
        if response.get("description") == "Default error response":  # flask-smorest's `default`
            response["description"] = ("Any other failure, e.g. 500 `internal_error` (nothing about the cause is "
                                       "sent) or 405 `method_not_allowed`.")
        return response

    def _name(self, operation: dict[str, Any], endpoint: str, method: str, path: str | None) -> None:
        name = operation.setdefault("operationId", operation_id(endpoint.rsplit(".", 1)[-1]))
        owner = f"{method.upper()} {path}"
        if self._operation_ids.setdefault(name, owner) != owner:
            # Generated clients name their functions after it: two alike would silently shadow.
            raise ValueError(f"operationId {name!r} of {owner} is already used by {self._operation_ids[name]}; "
                             "rename the view function or set operationId in its @blp.doc")


def _describe_scope(operation: dict[str, Any], view: Callable[..., Any]) -> None:
    if not getattr(view, "_identity_authenticated", False):
        operation.setdefault("security", [])
        return
    operation["security"] = [{BEARER_SCHEME: []}]
    scope = getattr(view, "_identity_scope", None)
    if scope is None:  # `require_scope(None)`: any valid key, whatever its scopes
        sentence = "Requires an API key; any scope will do."
    else:
        operation["x-required-scope"] = scope
        sentence = f"Requires an API key with the scope `{scope}`."
    description = operation.get("description")
    operation["description"] = f"{sentence}\n\n{description}" if description else sentence


def _document_errors(operation: dict[str, Any], view: Callable[..., Any], *, guarded: bool) -> None:
    """Each error status gets a problem+json response whose `code` enum lists what it can carry."""
    codes: dict[int, dict[str, str]] = {}

    def add(code: str, status: int, meaning: str) -> None:
        codes.setdefault(status, {}).setdefault(code, meaning)

    def add_error(error: type[DomainError]) -> None:
        add(error.code, error.status, error.title)

    for error in getattr(view, "_identity_raises", ()):
        add_error(error)
    if getattr(view, "_identity_authenticated", False):
        add(Unauthorized.code, Unauthorized.status, "No API key, or one that is unknown, revoked or disabled.")
        add(Forbidden.code, Forbidden.status, "The API key lacks the scope this operation requires.")
    if guarded:
        add(RateLimited.code, RateLimited.status, "Too many requests from this API key (or, unauthenticated, "
                                                  "from this address).")
        add(*SERVICE_UNAVAILABLE)
    has_body = "requestBody" in operation
    takes_query = any(isinstance(p, dict) and p.get("in") == "query" for p in operation.get("parameters", []))
    if has_body:
        add(*PAYLOAD_TOO_LARGE)
        add(*UNSUPPORTED_MEDIA_TYPE)
    if has_body or takes_query:
        add(ValidationFailed.code, ValidationFailed.status, "A field is not valid; `errors` names each one.")
    if getattr(view, "_identity_idempotent", False):
        operation.setdefault("parameters", []).append(_idempotency_parameter())
        add(IdempotencyKeyReused.code, IdempotencyKeyReused.status,
            "The Idempotency-Key was used within 24 hours for a different request.")
        add(ValidationFailed.code, ValidationFailed.status, "A field, or the Idempotency-Key, is not valid.")
    responses = operation["responses"]
    for status in sorted(codes):
        responses[str(status)] = _problem_response(status, codes[status], responses.get(str(status)))


def _idempotency_parameter() -> dict[str, Any]:
    return {"in": "header", "name": IDEMPOTENCY_HEADER, "required": False,
            "description": "Makes a retry safe: the same key from the same platform with the same body within 24 "
                           "hours answers the first response again (with `Idempotent-Replayed: true`); with "
                           "another body, 422 `idempotency_key_reused`.",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7E]+$"},
            "example": "2f1c6b0e-registration-forum-user-42"}


def _problem_response(status: int, codes: Mapping[str, str], existing: Any) -> dict[str, Any]:
    lines = [f"- `{code}`: {meaning}" for code, meaning in codes.items()]
    if isinstance(existing, dict) and existing.get("description"):
        lines.insert(0, existing["description"])  # a route's own words (@blp.alt_response) stay first
    response: dict[str, Any] = {
        "description": "\n".join(lines),
        "content": {PROBLEM_MIME: {"schema": {"allOf": [
            {"$ref": PROBLEM_REF},
            {"type": "object", "required": ["code"],
             "properties": {"code": {"type": "string", "enum": list(codes)}}}]}}},
    }
    headers = dict(existing.get("headers", {})) if isinstance(existing, dict) else {}
    if status in (429, 503):
        headers["Retry-After"] = _RETRY_AFTER
    if status == 401:
        headers["WWW-Authenticate"] = _WWW_AUTHENTICATE
    if headers:
        response["headers"] = headers
    return response


def _is_error(status: object) -> bool:
    text = str(status)
    return text == "default" or (text.isdigit() and int(text) >= 400)


def _as_problem(response: dict[str, Any]) -> None:
    content = response.get("content")
    if isinstance(content, dict) and _JSON in content:
        content[PROBLEM_MIME] = content.pop(_JSON)


def scopes_named(scopes: Iterable[str]) -> str:
    """The bearer scheme's description: what a key may be granted."""
    return "An API key issued by an operator, with some of the scopes " + ", ".join(f"`{s}`" for s in scopes) + "."

