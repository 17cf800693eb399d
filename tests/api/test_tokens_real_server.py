"""A posting service's view: the app served over real HTTP on loopback, checked with stock JOSE
libraries (PyJWT's PyJWKClient, and joserfc as an independent second implementation) and with
realname_identity_client, offline and by introspection."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
import urllib3
from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from realname_identity_client import IntrospectionClient, InvalidToken, TokenVerifier

from tests.support.people import register
from tests.support.serving import served
from tests.support.tokens import issue


@pytest.fixture
def base_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with served(app) as url:
        yield url


@pytest.fixture
def issued(client, auth):  # type: ignore[no-untyped-def]
    pseudonym = register(client, auth)
    return pseudonym, issue(client, auth, pseudonym)["token"]


def test_pyjwt_jwks_client_verifies_a_token_offline(base_url, app, platform, issued):
    pseudonym, token = issued
    signing_key = jwt.PyJWKClient(f"{base_url}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=["EdDSA"], audience=platform,
                        issuer=app.extensions["identity"].settings.issuer,
                        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]})
    assert claims["sub"] == pseudonym
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, signing_key.key, algorithms=["EdDSA"], audience="plt_someone_else")


# joserfc flags the polymorphic "EdDSA" name as deprecated by RFC 9864 (in favour of "Ed25519");
# the contract fixes `alg` to EdDSA, which every JOSE library still verifies.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_joserfc_independently_verifies_the_token_against_the_jwks(base_url, app, platform, issued):
    pseudonym, token = issued
    response = urllib3.request("GET", f"{base_url}/.well-known/jwks.json")
    assert response.status == 200
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    keys = KeySet.import_key_set(response.json())
    decoded = jose_jwt.decode(token, keys, algorithms=["EdDSA"])
    registry = jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": app.extensions["identity"].settings.issuer},
        aud={"essential": True, "value": platform}, sub={"essential": True, "value": pseudonym},
        exp={"essential": True}, nbf={"essential": True}, iat={"essential": True}, jti={"essential": True})
    registry.validate(decoded.claims)
    assert decoded.header["alg"] == "EdDSA"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(JoseError):
        jose_jwt.decode(tampered, keys, algorithms=["EdDSA"])


def test_jwks_answers_304_to_its_etag_over_http(base_url):
    first = urllib3.request("GET", f"{base_url}/.well-known/jwks.json")
    again = urllib3.request("GET", f"{base_url}/.well-known/jwks.json",
                            headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304


def test_identity_client_verifies_offline_and_online_and_sees_a_revocation(base_url, app, platforms, platform,
                                                                            client, auth, issued):
    pseudonym, token = issued
    api_key = platforms.key(platform, ("tokens:introspect",))
    verifier = TokenVerifier(f"{base_url}/.well-known/jwks.json", issuer=app.extensions["identity"].settings.issuer,
                             audience=platform,
                             introspection=IntrospectionClient(f"{base_url}/v1/tokens/introspect", api_key))
    offline = verifier.verify(token)
    assert offline.sub == pseudonym and offline.allows("post") and offline.adult and offline.rnv
    assert verifier.verify(token, online=True) == offline
    client.post("/v1/tokens/revoke", data={"token": token}, headers=auth)
    assert verifier.verify(token).sub == pseudonym  # offline cannot see a revocation ...
    with pytest.raises(InvalidToken) as raised:
        verifier.verify(token, online=True)  # ... introspection does
    assert raised.value.reason == "inactive"
