"""GET /.well-known/oauth-authorization-server (RFC 8414): a posting service configured with the
issuer URL alone finds the JWKS, introspection and revocation."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from identity import create_app

PATH = "/.well-known/oauth-authorization-server"


def test_the_metadata_names_every_endpoint_as_an_absolute_url_under_the_issuer(client, settings, auth, pseudonym):
    response = client.get(PATH)
    assert response.status_code == 200 and response.mimetype == "application/json"
    metadata = response.get_json()
    assert metadata["issuer"] == settings.issuer
    for field, path in (("jwks_uri", "/.well-known/jwks.json"), ("introspection_endpoint", "/v1/tokens/introspect"),
                        ("revocation_endpoint", "/v1/tokens/revoke")):
        assert metadata[field] == settings.issuer.rstrip("/") + path
        assert client.open(urlsplit(metadata[field]).path, method="HEAD").status_code != 404
    assert metadata["introspection_endpoint_auth_methods_supported"] == ["Bearer"]
    assert metadata["revocation_endpoint_auth_methods_supported"] == ["Bearer"]
    assert set(metadata["scopes_supported"]) == {"post", "group:create", "group:manage"}
    # The endpoints it names work: a token issued here introspects at the named URL.
    token = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth).get_json()["token"]
    answer = client.post(urlsplit(metadata["introspection_endpoint"]).path, data={"token": token}, headers=auth)
    assert answer.get_json()["active"] is True
    assert client.get(urlsplit(metadata["jwks_uri"]).path).get_json()["keys"]


def test_the_metadata_follows_the_configured_issuer(settings):
    app = create_app(dataclasses.replace(settings, issuer="https://id.example.org"))
    metadata = app.test_client().get(PATH).get_json()
    assert metadata["issuer"] == "https://id.example.org"
    assert metadata["introspection_endpoint"] == "https://id.example.org/v1/tokens/introspect"


def test_the_metadata_is_cacheable_and_revalidates(client):
    first = client.get(PATH)
    assert "max-age=" in first.headers["Cache-Control"] and "no-store" not in first.headers["Cache-Control"]
    again = client.get(PATH, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_metadata_route_is_in_the_openapi_document(client):
    document = client.get("/openapi.json").get_json()
    operation = document["paths"][PATH]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    assert {"issuer", "jwks_uri", "introspection_endpoint", "revocation_endpoint"} <= set(
        document["components"]["schemas"][name]["properties"])
