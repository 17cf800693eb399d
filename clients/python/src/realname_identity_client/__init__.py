"""What a posting service imports to check the identity service's tokens.

    from realname_identity_client import InvalidToken, TokenVerifier

    verifier = TokenVerifier.from_issuer("https://id.example", audience="plt_…", api_key="idk_…")
    claims = verifier.verify(token)               # offline: signature against the cached JWKS
    claims = verifier.verify(token, online=True)  # also asks the service (revocations, sanctions)
    if claims.allows("post"): ...

Depends only on `cryptography` (and uses urllib3 for pooled connections when it is installed).
"""

from realname_identity_client.discovery import DiscoveryError, ServerMetadata, fetch_metadata
from realname_identity_client.introspection import IntrospectionClient
from realname_identity_client.jwks import JwksCache
from realname_identity_client.model import InvalidToken, TokenClaims
from realname_identity_client.verifier import TokenVerifier

__all__ = ["DiscoveryError", "IntrospectionClient", "InvalidToken", "JwksCache", "ServerMetadata", "TokenClaims",
           "TokenVerifier", "fetch_metadata"]
