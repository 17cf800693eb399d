"""RFC 8414: from the issuer URL alone to where its keys and its introspection are.

The metadata is fetched from the well-known location RFC 8414 section 3 derives from the issuer
(`/.well-known/oauth-authorization-server`, inserted before any path the issuer has), and its
`issuer` must equal the configured one exactly (section 3.3): otherwise a server could name
endpoints on behalf of an issuer it is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from realname_identity_client._http import TRANSPORT_ERRORS, Transport, default_transport, send

WELL_KNOWN = "/.well-known/oauth-authorization-server"


class DiscoveryError(Exception):
    """The issuer's metadata could not be fetched, or cannot be trusted; the message says which."""


@dataclass(frozen=True)
class ServerMetadata:
    issuer: str
    jwks_uri: str
    introspection_endpoint: str | None
    revocation_endpoint: str | None


def metadata_url(issuer: str) -> str:
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise DiscoveryError("the issuer must be an http(s) URL without a query or fragment")
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + parts.path.rstrip("/"), "", ""))


def fetch_metadata(issuer: str, *, timeout: float = 5.0, http: Transport | None = None) -> ServerMetadata:
    url = metadata_url(issuer)
    try:
        response = send(http or default_transport(), "GET", url, headers={"Accept": "application/json"},
                        timeout=timeout)
    except TRANSPORT_ERRORS as error:
        raise DiscoveryError(f"could not fetch {url}: {error.__class__.__name__}") from None
    if response.status != 200:
        raise DiscoveryError(f"{url} answered {response.status}")
    try:
        document = json.loads(response.data)
    except ValueError:
        raise DiscoveryError(f"{url} did not answer JSON") from None
    if not isinstance(document, dict):
        raise DiscoveryError(f"{url} did not answer a JSON object")
    if document.get("issuer") != issuer:
        raise DiscoveryError(f"{url} names another issuer than {issuer}")
    return ServerMetadata(
        issuer=issuer,
        jwks_uri=_endpoint(document, "jwks_uri", issuer, required=True),  # type: ignore[arg-type]
        introspection_endpoint=_endpoint(document, "introspection_endpoint", issuer),
        revocation_endpoint=_endpoint(document, "revocation_endpoint", issuer))


def _endpoint(document: dict[str, Any], name: str, issuer: str, *, required: bool = False) -> str | None:
    value = document.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise DiscoveryError(f"the metadata has no {name}")
    scheme = urlsplit(value).scheme
    # An https issuer never sends its keys or your API key over plain http.
    allowed = ("https",) if urlsplit(issuer).scheme == "https" else ("http", "https")
    if scheme not in allowed or not urlsplit(value).netloc:
        raise DiscoveryError(f"the metadata's {name} is not an absolute {'/'.join(allowed)} URL")
    return value
