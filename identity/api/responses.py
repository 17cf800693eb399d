"""JSON success bodies built in one step: the schema's dump, serialized, in a Response.

flask-smorest's `@blp.response` dumps and then serializes through `jsonify`; on the token hot
paths that machinery cost more than the dump itself. Views there return `json_response(...)`
(smorest passes a Response through untouched) and keep `@blp.response` for the OpenAPI document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider
from marshmallow import Schema
from werkzeug.sansio.response import Response as AnyResponse

# Built once: json.dumps with options builds an encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_response(schema: Schema, data: Any, status: int, headers: Mapping[str, str] | None = None) -> Response:
    body = _ENCODER.encode(schema.dump(data))
    return Response(body, status=status, headers=dict(headers or {}), mimetype="application/json")


class ServiceJSONProvider(DefaultJSONProvider):
    """Flask's JSON (`jsonify`, and flask-smorest's answers through it) with its encoder built once
    at start-up instead of on every call. The same bytes: compact, keys sorted, non-ASCII as is,
    Flask's `default` for dates and the rest, a closing newline; indented in debug mode as Flask does."""

    ensure_ascii = False

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._compact = json.JSONEncoder(default=self.default, ensure_ascii=self.ensure_ascii,
                                         sort_keys=self.sort_keys, separators=(",", ":"))

    def response(self, *args: Any, **kwargs: Any) -> AnyResponse:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        body = self._compact.encode(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(f"{body}\n", mimetype=self.mimetype)
