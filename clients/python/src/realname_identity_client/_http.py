"""The one HTTP call shape the client makes, over urllib3 when it is installed, else the stdlib.

Anything with urllib3's `PoolManager.request(method, url, headers=, fields=, timeout=, ...)` and
a response with `.status`, `.headers` and `.data` can be passed as `http=`: your own pool, or a
stand-in in tests. Redirects are never followed: the URLs come from the issuer's metadata, and a
redirect elsewhere is a reason to refuse, not to follow.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

try:  # optional: connection pooling and keep-alive (`pip install realname-identity-client[urllib3]`)
    import urllib3
except ImportError:  # pragma: no cover - exercised by the package's own test with urllib3 blocked
    urllib3 = None  # type: ignore[assignment]


class Transport(Protocol):
    """urllib3's `PoolManager.request`: answers with `.status`, `.headers` (case-insensitive), `.data`."""

    def request(self, *args: Any, **kwargs: Any) -> Any: ...


# What a failed request raises, whichever transport made it: a network failure is `unavailable`.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException) + (
    (urllib3.exceptions.HTTPError,) if urllib3 is not None else ())


@dataclass
class _StdlibResponse:
    status: int
    headers: Any
    data: bytes


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is then returned as it is, and refused by the caller


class StdlibTransport:
    """urllib3's request shape on `urllib.request`: no pooling, no redirects, http(s) only."""

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(_NoRedirects)

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                fields: dict[str, str] | None = None, timeout: float = 5.0, **_: Any) -> _StdlibResponse:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise urllib.error.URLError(f"not an http(s) URL: {url}")
        data = None
        request_headers = dict(headers or {})
        if fields is not None:
            data = urllib.parse.urlencode(fields).encode()
            request_headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, headers=request_headers, method=method)  # noqa: S310
        try:
            # The scheme is checked above: only http(s) URLs reach urlopen.
            with self._opener.open(request, timeout=timeout) as response:  # nosec B310
                return _StdlibResponse(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:  # a non-2xx answer (304 included) is still an answer
            with error:
                return _StdlibResponse(error.code, error.headers, error.read())


def default_transport() -> Transport:
    if urllib3 is not None:
        return urllib3.PoolManager(num_pools=2, maxsize=4)
    return StdlibTransport()


def send(transport: Transport, method: str, url: str, *, headers: dict[str, str], timeout: float,
         fields: dict[str, str] | None = None) -> Any:
    """One request, no retries, no redirects; `fields` are sent form-encoded."""
    if fields is None:
        return transport.request(method, url, headers=headers, timeout=timeout, retries=False, redirect=False)
    return transport.request(method, url, headers=headers, fields=fields, encode_multipart=False,
                             timeout=timeout, retries=False, redirect=False)
