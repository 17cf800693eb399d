"""Helpers for group tests: keys with the group scopes, founding and closing through the API."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import ALL_SCOPES, Platforms
from tests.support.tokens import claims_of

GROUP_SCOPES = (*ALL_SCOPES, "groups:read", "groups:write")


def headers(platforms: Platforms, platform_id: str) -> dict[str, str]:
    return platforms.headers(platform_id, GROUP_SCOPES)


def found(client: FlaskClient, auth: dict[str, str], founder: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/groups", json={"founder": founder, **extra}, headers=auth)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def close(client: FlaskClient, auth: dict[str, str], group_id: str, reason_code: str = "illegal_content",
          **headers: str) -> dict[str, Any]:
    response = client.post(f"/v1/groups/{group_id}/closure", json={"reason_code": reason_code,
                                                                   "evidence_ref": "report-77"},
                           headers={**auth, **headers})
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def add_manager(client: FlaskClient, auth: dict[str, str], group_id: str, pseudonym: str) -> dict[str, Any]:
    response = client.post(f"/v1/groups/{group_id}/managers", json={"pseudonym": pseudonym}, headers=auth)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def account(client: FlaskClient, auth: dict[str, str], pseudonym: str) -> dict[str, Any]:
    response = client.get(f"/v1/accounts/{pseudonym}", headers=auth)
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def new_token(client: FlaskClient, auth: dict[str, str], pseudonym: str) -> str:
    response = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["token"])


def token_scope(token: str) -> set[str]:
    """The permissions a token was signed with."""
    return set(claims_of(token)["scope"].split())


def introspected_scope(client: FlaskClient, auth: dict[str, str], token: str) -> set[str]:
    """The permissions the token carries now, as introspection answers."""
    response = client.post("/v1/tokens/introspect", data={"token": token}, headers=auth)
    assert response.status_code == 200 and response.get_json()["active"], response.get_json()
    return set(response.get_json()["scope"].split())
