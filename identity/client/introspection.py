"""Asking the service about a token (RFC 7662): sees revocations and the scope as it is now."""

from __future__ import annotations

import json

import urllib3

from identity.client.model import InvalidToken, TokenClaims


class IntrospectionClient:
    """`url` is the service's `/v1/tokens/introspect`; `api_key` needs the `tokens:introspect` scope."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 5.0,
                 http: urllib3.PoolManager | None = None) -> None:
        self.url = url
        self._authorization = f"Bearer {api_key}"
        self._timeout = urllib3.Timeout(total=timeout)
        self._http = http or urllib3.PoolManager(num_pools=2, maxsize=4)

    def introspect(self, token: str) -> TokenClaims:
        try:
            response = self._http.request(
                "POST", self.url, fields={"token": token}, encode_multipart=False, timeout=self._timeout,
                headers={"Authorization": self._authorization, "Accept": "application/json"},
                retries=False, redirect=False)
        except urllib3.exceptions.HTTPError:
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
