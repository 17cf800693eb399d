"""The verifier's result and its one exception."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class InvalidToken(Exception):
    """The token must not be accepted. `reason` is for your logs and metrics, never for the user:
    malformed, unsupported_algorithm, unknown_kid, bad_signature, wrong_issuer, wrong_audience,
    expired, not_yet_valid, inactive (introspection said so), unavailable (no keys, or the
    service could not be asked)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenClaims:
    sub: str            # the holder's pseudonym on your platform
    aud: str            # your platform's id
    exp: int
    iat: int
    jti: str
    rnv: bool           # registered under a verified real name
    lvl: str            # document_checked | authority_verified
    adult: bool
    scope: frozenset[str]  # what the holder may do: post, group:create, group:manage
    sandbox: bool = False  # a sandbox platform's test account: refuse it where only real people may post

    def allows(self, permission: str) -> bool:
        return permission in self.scope

    @classmethod
    def from_mapping(cls, claims: Mapping[str, Any]) -> TokenClaims:
        """Build from verified claims or an introspection answer; wrong types are `malformed`."""
        try:
            values = {
                "sub": claims["sub"], "aud": claims["aud"], "exp": claims["exp"], "iat": claims["iat"],
                "jti": claims["jti"], "rnv": claims["rnv"], "lvl": claims["lvl"], "adult": claims["adult"],
            }
            scope = claims["scope"]
        except KeyError:
            raise InvalidToken("malformed") from None
        for name in ("sub", "aud", "jti", "lvl"):
            if not isinstance(values[name], str):
                raise InvalidToken("malformed")
        for name in ("exp", "iat"):
            if not isinstance(values[name], int) or isinstance(values[name], bool):
                raise InvalidToken("malformed")
        if not isinstance(values["rnv"], bool) or not isinstance(values["adult"], bool) or not isinstance(scope, str):
            raise InvalidToken("malformed")
        return cls(scope=frozenset(scope.split()), sandbox=claims.get("sandbox") is True, **values)
