"""The Blueprint every API route is declared on: flask-smorest's, reading request bodies once
with schemas built once.

The API's guard (identity/api/__init__.py) parses a JSON body strictly (a repeated key or a body
nested too deep is refused) and leaves the result where `request.get_json()` finds it. webargs'
Flask parser would parse the same bytes a second time, with Python's lenient parser; this one
takes the guard's result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask_smorest
from flask import Request
from marshmallow import Schema
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class ParsedBodyParser(FlaskParser):
    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing  # as webargs answers an empty body
        return req.get_json()  # the guard's parse of any other body (it refused the bad ones)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ParsedBodyParser()

    def arguments(self, schema: type[Schema] | Schema, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """flask-smorest's, with the schema built here, once: given a class, webargs would build
        an instance (and deep-copy its fields) on every request."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)
