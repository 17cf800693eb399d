"""What a posting service imports to check the identity service's tokens.

    from identity.client import IntrospectionClient, InvalidToken, TokenVerifier

    verifier = TokenVerifier("https://id.example/.well-known/jwks.json",
                             issuer="https://id.example", audience="plt_…")
    claims = verifier.verify(token)          # offline: signature against the cached JWKS
    if "post" in claims.scope: ...

Depends only on PyJWT, urllib3 and cryptography; imports nothing else from `identity`.
"""

from identity.client.introspection import IntrospectionClient
from identity.client.jwks import JwksCache
from identity.client.model import InvalidToken, TokenClaims
from identity.client.verifier import TokenVerifier

__all__ = ["IntrospectionClient", "InvalidToken", "JwksCache", "TokenClaims", "TokenVerifier"]
