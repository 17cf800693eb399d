"""JSON request bodies, parsed once and strictly.

Python's parser lets the last of two equal keys win, so a body could say one thing to a proxy
or a log reader and another to the service; and it recurses once per level, so a deep enough
body ends in a RecursionError (a 500). The contract refuses both with 422 `validation_failed`.
Messages never quote the body.
"""

from __future__ import annotations

import json
from typing import Any

from identity.errors import ValidationFailed

MAX_DEPTH = 32


class _RepeatedKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    built = dict(pairs)
    if len(built) != len(pairs):
        raise _RepeatedKey
    return built


# Built once: json.loads with a hook builds a decoder on every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_object)


def parse_json_body(data: bytes) -> Any:
    """The body's JSON value; ValidationFailed if it is not JSON, repeats a key in an object, or
    nests deeper than MAX_DEPTH."""
    try:
        value = _DECODER.decode(data.decode(json.detect_encoding(data), "surrogatepass"))  # as json.loads does
    except _RepeatedKey:
        raise ValidationFailed({"body": ["A key appears more than once in the same object."]}) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise ValidationFailed({"body": ["The body must be a JSON object."]}) from None
    # Fewer brackets than the limit cannot nest past it: the walk is for unusual bodies only.
    if data.count(b"{") + data.count(b"[") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise _too_deep()
    return value


def _too_deep() -> ValidationFailed:
    return ValidationFailed({"body": [f"The body nests deeper than {MAX_DEPTH} levels."]})


def _depth(value: Any) -> int:
    if not isinstance(value, dict | list):
        return 0
    deepest, pending = 0, [(value, 1)]
    while pending:
        node, level = pending.pop()
        children = node.values() if isinstance(node, dict) else node
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        pending.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest
