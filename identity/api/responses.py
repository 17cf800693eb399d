"""How every JSON answer is written: Flask's JSON provider, with its encoder built once.

flask-smorest's `@blp.response` dumps a view's data with the route's schema and serializes it
through `jsonify`, i.e. through the app's JSON provider; `json.dumps` with options builds a new
encoder on every call, so this provider keeps one.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response


class ServiceJSONProvider(DefaultJSONProvider):
    """Flask's JSON (`jsonify`, and flask-smorest's answers through it) with its encoder built once
    at start-up instead of on every call. The same bytes: compact, keys sorted, non-ASCII as is,
    Flask's `default` for dates and the rest, a closing newline; indented in debug mode as Flask does."""

    ensure_ascii = False

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._compact = json.JSONEncoder(default=self.default, ensure_ascii=self.ensure_ascii,
                                         sort_keys=self.sort_keys, separators=(",", ":"))

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        body = self._compact.encode(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(f"{body}\n", mimetype=self.mimetype)
