"""The Blueprint every API route is declared on: flask-smorest's, reading request bodies once.

The API's guard (identity/api/__init__.py) parses a JSON body strictly (a repeated key or a body
nested too deep is refused) and leaves the result where `request.get_json()` finds it. webargs'
Flask parser would parse the same bytes a second time, with Python's lenient parser; this one
takes the guard's result.
"""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class ParsedBodyParser(FlaskParser):
    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing  # as webargs answers an empty body
        return req.get_json()  # the guard's parse of any other body (it refused the bad ones)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ParsedBodyParser()
