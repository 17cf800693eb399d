"""Asking the service about a token (RFC 7662): sees revocations and the scope as it is now."""

from __future__ import annotations

import json

from realname_identity_client._http import TRANSPORT_ERRORS, Transport, default_transport, send
from realname_identity_client.model import InvalidToken, TokenClaims


class IntrospectionClient:
    """`url` is the metadata's `introspection_endpoint` (`TokenVerifier.from_issuer` finds it);
    `api_key` needs the `tokens:introspect` scope."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 5.0, http: Transport | None = None) -> None:
        self.url = url
        self._authorization = f"Bearer {api_key}"
        self._timeout = timeout
        self._http = http or default_transport()

    def introspect(self, token: str) -> TokenClaims:
        try:
            response = send(self._http, "POST", self.url, fields={"token": token}, timeout=self._timeout,
                            headers={"Authorization": self._authorization, "Accept": "application/json"})
        except TRANSPORT_ERRORS:
            raise InvalidToken("unavailable") from None
        if response.status != 200:
            raise InvalidToken("unavailable")
        try:
            body = json.loads(response.data)
        except ValueError:
            raise InvalidToken("unavailable") from None
        if not isinstance(body, dict) or body.get("active") is not True:
            raise InvalidToken("inactive")
        return TokenClaims.from_mapping(body)
