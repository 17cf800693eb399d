"""/v1/tokens (issue, introspect, revoke), /.well-known/jwks.json and the RFC 8414 metadata."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

from flask import Response, request
from marshmallow import ValidationError

from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.blueprint import Blueprint
from identity.api.openapi import raises
from identity.api.problems import flatten_messages
from identity.api.request_scope import (
    current_keyring,
    current_time,
    principal,
    request_epochs,
    request_session,
    runtime,
)
from identity.api.token_schemas import (
    INTROSPECTION_EXAMPLE,
    REVOCATION_EXAMPLE,
    TOKEN_REQUEST_EXAMPLE,
    AuthorizationServerMetadataSchema,
    IntrospectionRequestSchema,
    IntrospectionSchema,
    IssuedTokenSchema,
    JwksSchema,
    RevocationSchema,
    TokenParameterSchema,
    TokenRequestSchema,
)
from identity.api.transactions import READS, WRITES, transaction
from identity.errors import AccountRestricted, DomainError, NotFound, ValidationFailed
from identity.metrics import TOKENS
from identity.services import tokens
from identity.services.sanctions import TOKEN_PERMISSIONS
from identity.services.signing import SigningKeys

blp = Blueprint("tokens", __name__, url_prefix="/v1/tokens",
                description="Pseudonymous tokens for posting services: issue, introspect, revoke.")
jwks_blp = Blueprint("jwks", __name__, url_prefix="/.well-known",
                     description="The public keys that verify tokens offline, and where the token endpoints are.")

# Both RFC 7662 and RFC 7009 define form-encoded requests; JSON is accepted too.
FORM_ENDPOINTS = ("tokens.introspect_token", "tokens.revoke_token")
_TOKEN_PARAMETER = TokenParameterSchema()
_INTROSPECTION_REQUEST = IntrospectionRequestSchema()
_TOKEN_REQUEST = TokenRequestSchema()


def _form_or_json(schema: type[TokenParameterSchema], example: dict[str, str], *,
                  required: bool = True) -> dict[str, Any]:
    return {"required": required,
            "content": {"application/x-www-form-urlencoded": {"schema": schema, "example": example},
                        "application/json": {"schema": schema, "example": example}}}


NO_STORE = {"Cache-Control": "no-store"}  # tokens and token states are not for shared caches



def signing_keys() -> SigningKeys:
    return runtime().signing_keys.get(request_epochs().get("keys", 0), request_session(), current_keyring())


def _token_parameter(schema: TokenParameterSchema) -> str:
    if request.mimetype == "application/x-www-form-urlencoded":
        # The body is already read (the API's guard caches it); parse_qsl is several times
        # cheaper than werkzeug's streaming form parser on this hot path.
        try:
            pairs = parse_qsl(request.get_data(cache=True).decode("utf-8"), keep_blank_values=True,
                              strict_parsing=False, max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            raise ValidationFailed({"body": ["The form body could not be parsed."]}) from None
        data: Any = dict(pairs)
        if len(data) != len(pairs):
            raise ValidationFailed({"body": ["Send each parameter once (RFC 7662 section 2.1)."]})
    else:
        data = request.get_json(silent=True) or {}
    try:
        token: str = schema.load(data)["token"]
        return token
    except ValidationError as error:
        raise ValidationFailed(flatten_messages(error.messages)) from None


@blp.route("", methods=["POST"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="Issue a token for one of this platform's accounts",
         description="No database write and no audit event: issuing changes no stored state. "
                     "`Idempotency-Key` is ignored: a retry gets a new token, and no token is stored.")
@require_scope("tokens:issue")
@blp.arguments(TokenRequestSchema, example=TOKEN_REQUEST_EXAMPLE)
@blp.response(201, IssuedTokenSchema)
@raises(AccountRestricted, NotFound)
def issue_token(body: dict[str, Any]) -> Any:
    rt = runtime()
    try:
        issued = tokens.issue(request_session(), current_keyring(), rt.token_caches, signing_keys(),
                              issuer=runtime().settings.issuer, principal=principal(), pseudonym=body["pseudonym"],
                              ttl_seconds=body["ttl_seconds"], current=request_epochs(), now=rt.clock.now())
    except DomainError as error:
        TOKENS.labels(operation="issue", outcome=error.code).inc()
        raise
    TOKENS.labels(operation="issue", outcome="issued").inc()
    return ({"token": issued.token, "token_type": "Bearer",  # the RFC 6749 token type, not a secret # nosec B105
             "expires_at": issued.expires_at, "jti": issued.jti}, 201, NO_STORE)


@blp.route("/introspect", methods=["POST"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="Is this token active, and what may its holder do now? (RFC 7662)",
         description="`{\"active\": false}` alone, whatever the reason: missing or empty, expired, not yet "
                     "valid, revoked, malformed, an unknown or revoked key, a bad signature, another issuer, another "
                     "platform's, or a closed account. `scope` is computed now, after the sanctions in force now. "
                     "`Idempotency-Key` is ignored: the answer is always the current one.",
         requestBody=_form_or_json(IntrospectionRequestSchema, INTROSPECTION_EXAMPLE, required=False))
@require_scope("tokens:introspect")
@blp.response(200, IntrospectionSchema)
def introspect_token() -> Any:
    token = _token_parameter(_INTROSPECTION_REQUEST)
    rt = runtime()
    result = tokens.introspect(request_session(), current_keyring(), rt.token_caches, signing_keys(),
                               issuer=rt.settings.issuer, principal=principal(), token=token,
                               current=request_epochs(), now=rt.clock.now())
    TOKENS.labels(operation="introspect", outcome="active" if result else "inactive").inc()
    return result or {"active": False}, 200, NO_STORE


@blp.route("/revoke", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Revoke one of this platform's tokens (RFC 7009)",
         description="200 whether or not the token was active or this platform's; effective at once in "
                     "every server process. Audited. `Idempotency-Key` is ignored.",
         requestBody=_form_or_json(TokenParameterSchema, REVOCATION_EXAMPLE))
@require_scope("tokens:issue")
@blp.response(200, RevocationSchema)
def revoke_token() -> Any:
    token = _token_parameter(_TOKEN_PARAMETER)
    rt = runtime()
    revoked = tokens.revoke(request_session(), current_keyring(), signing_keys(), issuer=rt.settings.issuer,
                            principal=principal(), token=token, now=rt.clock.now())
    TOKENS.labels(operation="revoke", outcome="revoked" if revoked else "no_effect").inc()
    return {}, 200, NO_STORE


@jwks_blp.route("/jwks.json", methods=["GET"])
@transaction(READS)
@jwks_blp.doc(security=[], summary="The public keys that verify every unexpired token",
              description="Ed25519 keys (kty OKP, alg EdDSA). `kid` is the key's RFC 7638 thumbprint. A "
                          "rotated-out key stays until its last token has expired. Cacheable: honour "
                          "Cache-Control max-age, revalidate with If-None-Match, and refetch on an unknown kid.")
@jwks_blp.response(200, JwksSchema, headers={"ETag": {"schema": {"type": "string"}},
                                              "Cache-Control": {"schema": {"type": "string"}}})
def get_jwks() -> Any:
    document = signing_keys().jwks(current_time())
    response = Response(document.body, mimetype="application/json")
    response.headers["ETag"] = document.etag
    response.headers["Cache-Control"] = f"public, max-age={runtime().settings.jwks_max_age_seconds}"
    return response.make_conditional(request)


# The metadata changes only with the configured issuer, i.e. with a restart; a day's caching
# is what mature authorization servers publish for theirs.
METADATA_MAX_AGE_SECONDS = 86400


@functools.cache
def _metadata_document(issuer: str) -> tuple[bytes, str]:
    """RFC 8414 section 2, as bytes and an ETag. Absolute URLs under the configured issuer:
    the service is reached at the issuer URL, as its tokens' `iss` already says."""
    base = issuer.rstrip("/")
    metadata = {
        "issuer": issuer,
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "introspection_endpoint": f"{base}/v1/tokens/introspect",
        "revocation_endpoint": f"{base}/v1/tokens/revoke",
        # RFC 8414 admits values from the OAuth Access Token Types registry here: the caller
        # authenticates with `Authorization: Bearer <api key>`.
        "introspection_endpoint_auth_methods_supported": ["Bearer"],
        "revocation_endpoint_auth_methods_supported": ["Bearer"],
        "scopes_supported": list(TOKEN_PERMISSIONS),
        # Tokens are issued to platforms by POST /v1/tokens, not through an OAuth flow: no
        # authorization or token endpoint, no response or grant types.
        "response_types_supported": [],
        "grant_types_supported": [],
        "service_documentation": f"{base}/docs",
    }
    body = json.dumps(AuthorizationServerMetadataSchema().dump(metadata), separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@jwks_blp.route("/oauth-authorization-server", methods=["GET"])
@transaction(READS)
@jwks_blp.doc(security=[], summary="Authorization server metadata (RFC 8414)",
              description="Where the JWKS, introspection and revocation are, as absolute URLs under the "
                          "issuer, so a posting service is configured with the issuer URL alone. Cacheable.")
@jwks_blp.response(200, AuthorizationServerMetadataSchema,
                   headers={"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}})
def get_authorization_server_metadata() -> Any:
    body, etag = _metadata_document(runtime().settings.issuer)
    response = Response(body, mimetype="application/json")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={METADATA_MAX_AGE_SECONDS}"
    return response.make_conditional(request)
