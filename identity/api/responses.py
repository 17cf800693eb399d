"""JSON success bodies built in one step: the schema's dump, serialized, in a Response.

flask-smorest's `@blp.response` dumps and then serializes through `jsonify`; on the token hot
paths that machinery cost more than the dump itself. Views there return `json_response(...)`
(smorest passes a Response through untouched) and keep `@blp.response` for the OpenAPI document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response
from marshmallow import Schema

# Built once: json.dumps with options builds an encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_response(schema: Schema, data: Any, status: int, headers: Mapping[str, str] | None = None) -> Response:
    body = _ENCODER.encode(schema.dump(data))
    return Response(body, status=status, headers=dict(headers or {}), mimetype="application/json")
