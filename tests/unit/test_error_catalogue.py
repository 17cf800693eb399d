"""docs/errors.md names every `code` the service can answer, and no code it cannot.

The codes are read from the source, not listed here, so a code added later (by a new
DomainError, a problem() call, an HTTP status mapping or an admin CLI failure) fails this
test until the catalogue describes it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "errors.md"
# Named by the contract for features not built yet; documented before they land.
ANNOUNCED: set[str] = set()


def _string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "identity").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign):
                target = node.targets[0]
                # `code = "..."` and `code, status, title = "...", 422, "..."` in error classes
                if isinstance(target, ast.Name) and target.id == "code" and _string(node.value):
                    codes.add(_string(node.value))  # type: ignore[arg-type]
                elif (isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                      and isinstance(target.elts[0], ast.Name) and target.elts[0].id == "code"):
                    codes.add(_string(node.value.elts[0]))  # type: ignore[arg-type]
                # `TOO_MANY_ATTEMPTS_CODE = "..."`: a code that is no HTTP error (a session's last_error)
                elif isinstance(target, ast.Name) and target.id.endswith("_CODE") and _string(node.value):
                    codes.add(_string(node.value))  # type: ignore[arg-type]
                # `_HTTP_CODES = {400: ("validation_failed", "Bad request"), ...}` and its fallback
                elif isinstance(target, ast.Name) and target.id == "_HTTP_CODES" and isinstance(node.value, ast.Dict):
                    codes.update(_string(v.elts[0]) for v in node.value.values if isinstance(v, ast.Tuple))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                if name == "problem" and len(node.args) >= 2 and _string(node.args[1]):
                    codes.add(_string(node.args[1]))  # type: ignore[arg-type]
                elif name == "fail" and node.args and _string(node.args[0]):  # the admin CLI's failures
                    codes.add(_string(node.args[0]))  # type: ignore[arg-type]
                elif name == "get" and len(node.args) == 2 and isinstance(node.args[1], ast.Tuple):
                    fallback = _string(node.args[1].elts[0])  # _HTTP_CODES.get(status, ("http_error", ...))
                    if fallback:
                        codes.add(fallback)
    codes.discard(None)  # type: ignore[arg-type]
    return codes


def codes_in_catalogue() -> set[str]:
    rows = (line for line in CATALOGUE.read_text(encoding="utf-8").splitlines() if line.startswith("| `"))
    return {match.group(1) for row in rows if (match := re.match(r"\| `([a-z_]+)` \|", row))}


def test_source_scan_finds_the_known_codes() -> None:
    # Guards the scan itself: one code from each place codes are defined.
    assert {"validation_failed", "identity_erased", "command_failed", "method_not_allowed",
            "service_unavailable", "internal_error", "schema_behind", "http_error"} <= codes_in_source()


def test_every_code_the_service_answers_is_in_the_catalogue() -> None:
    assert codes_in_source() - codes_in_catalogue() == set()


def test_the_catalogue_names_no_code_the_service_lacks() -> None:
    assert codes_in_catalogue() - codes_in_source() <= ANNOUNCED
    assert ANNOUNCED <= codes_in_catalogue()
