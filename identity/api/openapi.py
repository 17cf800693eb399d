"""The OpenAPI document says what the service sends: errors as application/problem+json."""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

from identity.api.problems import PROBLEM_MIME

_JSON = "application/json"


class ProblemContentPlugin(BasePlugin):
    """Documents every error response (4xx, 5xx, `default`) as RFC 9457 problem+json.

    flask-smorest documents every response as application/json; the service answers errors
    with application/problem+json, so clients and contract tests read the wrong type.
    """

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                if _is_error(status) and isinstance(response, dict):
                    _as_problem(response)

    def response_helper(self, response: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # Shared responses (flask-smorest's DEFAULT_ERROR, UNPROCESSABLE_ENTITY, ...) are all errors.
        _as_problem(response)
        return response


def _is_error(status: object) -> bool:
    text = str(status)
    return text == "default" or (text.isdigit() and int(text) >= 400)


def _as_problem(response: dict[str, Any]) -> None:
    content = response.get("content")
    if isinstance(content, dict) and _JSON in content:
        content[PROBLEM_MIME] = content.pop(_JSON)
