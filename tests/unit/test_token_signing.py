"""A token signed by a signing key (identity.services.signing.SigningKey.sign) names its key and
verifies against the key's public half."""

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.services.signing import SigningKey, public_jwk, thumbprint

CLAIMS = {"iss": "https://identity.example", "sub": "psn_01J0000000000000000000000", "aud": "plt_x",
          "iat": 1700000000, "nbf": 1700000000, "exp": 1700000600, "jti": "abc", "rnv": True, "lvl": "real_name",
          "adult": True, "scope": "post comment", "sandbox": True, "note": "名前"}


def _key() -> tuple[SigningKey, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    jwk = public_jwk(private.public_key())
    return SigningKey(version=1, kid=thumbprint(jwk), private=private, public=private.public_key(), jwk=jwk,
                      published_until=None), private


def test_a_signed_token_verifies_and_names_its_key():
    key, _ = _key()
    token = key.sign(CLAIMS)

    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    assert jwt.decode(token, key.public, algorithms=["EdDSA"], audience="plt_x",
                      options={"verify_exp": False}) == CLAIMS
