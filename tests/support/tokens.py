"""Helpers for token tests: sanctions filed and lifted through `services.sanctions`, forged
tokens, and an HTTP stand-in that lets realname_identity_client talk to the Flask test client."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient


def issue(client: FlaskClient, headers: dict[str, str], pseudonym: str, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/tokens", json={"pseudonym": pseudonym, **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def introspect(client: FlaskClient, headers: dict[str, str], token: str) -> dict[str, Any]:
    response = client.post("/v1/tokens/introspect", data={"token": token}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _platform_principal(platform_id: str) -> Any:
    from identity.services.authentication import Principal
    from identity.services.platforms import PlatformPolicy

    return Principal(key_id="key_tests", platform_id=platform_id, scopes=frozenset({"sanctions:write"}),
                     policy=PlatformPolicy())


def file_sanction(app: Flask, pseudonym: str, kind: str, *, expires_at: datetime | None = None) -> str:
    """File a sanction through `services.sanctions`, as POST /v1/sanctions does, at the app's clock."""
    from sqlalchemy import select

    from identity.cli.command_boundary import keyring, runtime
    from identity.extensions import db
    from identity.models import Account
    from identity.services import sanctions

    with app.app_context():
        platform_id = db.session.scalar(select(Account.platform_id).where(Account.pseudonym == pseudonym))
        assert platform_id is not None
        filing = sanctions.Filing(pseudonym=pseudonym, kind=kind, reason_code="spam", evidence_ref="report-1",
                                  expires_at=expires_at)
        view = sanctions.file(db.session(), keyring(), _platform_principal(platform_id), filing,
                              runtime().clock.now())
        db.session.commit()
        return view.sanction.id


def lift_sanction(app: Flask, sanction_id: str) -> None:
    from identity.cli.command_boundary import keyring, runtime
    from identity.extensions import db
    from identity.models import Sanction
    from identity.services import sanctions

    with app.app_context():
        sanction = db.session.get(Sanction, sanction_id)
        assert sanction is not None
        sanctions.lift(db.session(), keyring(), _platform_principal(sanction.platform_id), sanction_id,
                       "appeal upheld", runtime().clock.now())
        db.session.commit()


def signing_private_key(app: Flask) -> tuple[str, Ed25519PrivateKey]:
    """The service's primary signing key and its kid (to forge tokens that differ in one claim)."""
    from identity.cli.command_boundary import keyring
    from identity.extensions import db
    from identity.services.signing import load_signing_keys

    with app.app_context():
        keys = load_signing_keys(db.session(), keyring())
        return keys.primary.kid, keys.primary.private


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def header_of(token: str) -> dict[str, Any]:
    return jwt.get_unverified_header(token)


def resign(token: str, key: Ed25519PrivateKey, kid: str, **changes: Any) -> str:
    claims = {**claims_of(token), **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


@dataclass
class FakeResponse:
    status: int
    headers: dict[str, str]
    data: bytes


@dataclass
class FlaskHttp:
    """Stands in for urllib3.PoolManager: sends realname_identity_client's requests to a Flask test client."""

    client: FlaskClient
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                fields: dict[str, str] | None = None, **_: Any) -> FakeResponse:
        import urllib3

        self.requests.append((method, url))
        if self.fail:
            raise urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1]
        response = self.client.open(path, method=method, headers=headers or {}, data=fields)
        return FakeResponse(response.status_code, dict(response.headers), response.get_data())


def sign_raw(header: dict[str, Any], claims: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """A JWS built by hand, for headers a JWT library refuses to produce."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode()))}"
