"""Paths as logs may show them: the route template, never a pseudonym or another id. No Flask
here: gunicorn's access logger (identity.gunicorn_logging) uses it too."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

# Where the app leaves the request's route rule (or, unrouted, its loggable path) for the access log.
ROUTE_ENVIRON_KEY = "identity.route"
# Where it leaves the request id (identity.api.request_ids).
REQUEST_ID_ENVIRON_KEY = "identity.request_id"
UNKNOWN_SEGMENT = "{?}"
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


@functools.lru_cache(maxsize=512)
def route_template(rule: str) -> str:
    """`/v1/accounts/<string:pseudonym>` -> `/v1/accounts/{pseudonym}`."""
    return _VARIABLE.sub(r"{\1}", rule)


def literal_route_segments(rules: Iterable[str]) -> frozenset[str]:
    """The words the app's routes are made of (`v1`, `accounts`), without their variables."""
    return frozenset(segment for rule in rules for segment in rule.split("/") if segment and "<" not in segment)


def loggable_unrouted_path(path: str, literal_segments: frozenset[str]) -> str:
    """A path that matched no route: only the words the app's own routes use are kept; any
    other segment (a pseudonym, an id, whatever a caller typed) becomes `{?}`."""
    return "/".join(segment if not segment or segment in literal_segments else UNKNOWN_SEGMENT
                    for segment in path[:2048].split("/")[:32])
