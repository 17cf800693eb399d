"""realname_identity_client configured from the issuer URL alone (RFC 8414), against a stand-in server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3
from realname_identity_client import DiscoveryError, InvalidToken, TokenVerifier
from realname_identity_client.discovery import metadata_url

from tests.unit.client.test_client_verifier import AUDIENCE, ISSUER, Clock, JwksServer, Response, claims, sign

METADATA_URL = "https://id.example/.well-known/oauth-authorization-server"
# Deliberately not the usual paths: the client must use what the metadata names.
JWKS_URI = "https://keys.id.example/published/keys.json"
INTROSPECTION = "https://id.example/api/introspect"


class IssuerServer(JwksServer):
    """Serves RFC 8414 metadata at the well-known URL, the JWKS where it says, and introspection."""

    def __init__(self, **metadata: Any) -> None:
        super().__init__()
        self.metadata: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": JWKS_URI,
                                         "introspection_endpoint": INTROSPECTION, **metadata}
        self.metadata = {k: v for k, v in self.metadata.items() if v is not None}
        self.urls: list[str] = []
        self.metadata_status = 200

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        self.urls.append(url)
        if url == METADATA_URL:
            if self.down:
                raise urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
            return Response(self.metadata_status, {}, json.dumps(self.metadata).encode())
        assert url in (JWKS_URI, INTROSPECTION), url
        return super().request(method, url, **kwargs)


def test_the_well_known_url_follows_rfc_8414_section_3():
    assert metadata_url("https://id.example") == METADATA_URL
    assert metadata_url("https://id.example/") == METADATA_URL
    assert metadata_url("https://id.example/tenant/a") == \
        "https://id.example/.well-known/oauth-authorization-server/tenant/a"
    with pytest.raises(DiscoveryError):
        metadata_url("id.example")


def test_from_the_issuer_alone_it_verifies_offline_and_introspects_at_the_named_endpoints():
    server = IssuerServer()
    kid = server.add_key()
    verifier = TokenVerifier.from_issuer(ISSUER, AUDIENCE, api_key="idk_x_y", http=server,  # type: ignore[arg-type]
                                         clock=Clock())
    token = sign(server, kid)
    assert verifier.verify(token).sub == "psn_abc"
    server.introspection = {"active": True, **claims(scope="post")}
    assert verifier.verify(token, online=True).scope == frozenset({"post"})
    assert server.urls == [METADATA_URL, JWKS_URI, INTROSPECTION]
    assert verifier.metadata is not None and verifier.metadata.jwks_uri == JWKS_URI


@pytest.mark.parametrize(("metadata", "status", "message"), [
    ({"issuer": "https://evil.example"}, 200, "another issuer"),
    ({"jwks_uri": "http://keys.id.example/keys.json"}, 200, "jwks_uri"),  # a downgrade to plain http
    ({"jwks_uri": None}, 200, "jwks_uri"),
    ({"jwks_uri": "/relative/keys.json"}, 200, "jwks_uri"),
    ({"introspection_endpoint": "ftp://id.example/introspect"}, 200, "introspection_endpoint"),
    ({}, 404, "404"),
])
def test_metadata_that_cannot_be_trusted_is_refused_at_start_up(metadata, status, message):
    server = IssuerServer(**metadata)
    server.metadata_status = status
    with pytest.raises(DiscoveryError, match=message):
        TokenVerifier.from_issuer(ISSUER, AUDIENCE, http=server)  # type: ignore[arg-type]


def test_an_unreachable_issuer_or_no_introspection_endpoint_is_a_discovery_error():
    server = IssuerServer()
    server.down = True
    with pytest.raises(DiscoveryError, match="could not fetch"):
        TokenVerifier.from_issuer(ISSUER, AUDIENCE, http=server)  # type: ignore[arg-type]
    server = IssuerServer(introspection_endpoint=None)
    with pytest.raises(DiscoveryError, match="introspection_endpoint"):
        TokenVerifier.from_issuer(ISSUER, AUDIENCE, api_key="idk_x_y", http=server)  # type: ignore[arg-type]
    offline_only = TokenVerifier.from_issuer(ISSUER, AUDIENCE, http=server)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        offline_only.verify(sign(server, server.add_key()), online=True)
    with pytest.raises(InvalidToken):
        offline_only.verify("not.a.token")
