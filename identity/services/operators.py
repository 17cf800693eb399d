"""Operators name themselves for the acts that take two people (lawful disclosure) and for
holds and assessments: the name goes on the request and on every audit event it causes."""

from __future__ import annotations

import re
import unicodedata

from identity.errors import OperatorError

# The audit actor of the admin CLI's acts that take no named operator (platforms, keys, purges, ...).
CLI_OPERATOR = "operator:cli"

# A login name, not a person's full name: what the operator is known by on the hosts.
_OPERATOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,47}")


def check_operator(name: str | None) -> str:
    if not name:
        raise OperatorError("name the operator with --operator NAME or IDENTITY_OPERATOR")
    if not _OPERATOR_NAME.fullmatch(name):
        raise OperatorError("an operator name is 1 to 48 letters, digits and . _ @ - (a login name)")
    return name


def actor_of(operator: str) -> str:
    return f"operator:{operator}"


def check_text(option: str, value: str, *, limit: int = 200) -> str:
    """Free text an operator types (authority, case reference, reasons): 1..limit printable characters."""
    value = unicodedata.normalize("NFC", value).strip()
    if not 1 <= len(value) <= limit:
        raise OperatorError(f"{option} must be 1 to {limit} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        raise OperatorError(f"{option} must not contain control characters")
    return value
