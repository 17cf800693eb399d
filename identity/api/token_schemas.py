"""Request and response bodies of the token routes (they feed the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from identity.api.fields import Rfc3339, StrictString
from identity.api.schemas import StrictSchema
from identity.models.token import MAX_TOKEN_TTL_SECONDS
from identity.services.tokens import DEFAULT_TTL_SECONDS, MIN_TTL_SECONDS


class StrictInteger(fields.Integer):
    """A JSON integer: "900" or 900.5 or true is refused, not coerced."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Must be an integer.")
        return super()._deserialize(value, attr, data, **kwargs)


TOKEN_REQUEST_EXAMPLE = {"pseudonym": "psn_7k3m9x2q4w8r6t1v5y0z3a2b4c", "ttl_seconds": 900}
_JWS_PLACEHOLDER = "<the JWS that POST /v1/tokens answered>"
INTROSPECTION_EXAMPLE = {"token": _JWS_PLACEHOLDER}
REVOCATION_EXAMPLE = {"token": _JWS_PLACEHOLDER}


class TokenRequestSchema(StrictSchema):
    pseudonym = StrictString(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"example": "psn_7k3m9x2q4w8r6t1v5y0z3a2b4c"})
    ttl_seconds = StrictInteger(load_default=DEFAULT_TTL_SECONDS,
                                validate=validate.Range(min=MIN_TTL_SECONDS, max=MAX_TOKEN_TTL_SECONDS),
                                metadata={"description": f"lifetime in seconds, {MIN_TTL_SECONDS} to "
                                                         f"{MAX_TOKEN_TTL_SECONDS}; default {DEFAULT_TTL_SECONDS}"})


class IssuedTokenSchema(Schema):
    token = fields.String(required=True, metadata={
        "description": "a JWT (RFC 7519) signed with Ed25519 (alg EdDSA, kid in the header); verify it against "
                       "/.well-known/jwks.json"})
    token_type = fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_at = Rfc3339(required=True)
    jti = fields.String(required=True)


class TokenParameterSchema(StrictSchema):
    """RFC 7662 / RFC 7009 request: as a form field (application/x-www-form-urlencoded) or a JSON key."""

    # No upper bound here: an overlong token is answered `{"active": false}` like any other bad one.
    token = StrictString(required=True, validate=validate.Length(min=1))
    token_type_hint = StrictString(validate=validate.Length(max=64),
                                   metadata={"description": "accepted as RFC 7662 allows, and ignored"})


class IntrospectionRequestSchema(TokenParameterSchema):
    """RFC 7662 request; a missing or empty `token` is a token like any other bad one: inactive."""

    token = StrictString(load_default="", metadata={"description": "the token; missing or empty answers "
                                                                   "`{\"active\": false}`"})


class IntrospectionSchema(Schema):
    """`{"active": false}` alone for any inactive token; every other field only when active."""

    active = fields.Boolean(required=True)
    sub = fields.String(metadata={"description": "the pseudonym"})
    aud = fields.String(metadata={"description": "the platform's id"})
    exp = fields.Integer()
    iat = fields.Integer()
    jti = fields.String()
    rnv = fields.Boolean()
    lvl = fields.String(metadata={"enum": ["document_checked", "authority_verified"]})
    adult = fields.Boolean()
    scope = fields.String(metadata={"description": "permissions left now, after current sanctions"})
    sandbox = fields.Boolean(metadata={"description": "`true` only for a sandbox platform's token; absent otherwise",
                                       "enum": [True]})


class RevocationSchema(Schema):
    """RFC 7009 answers 200 with no content of meaning; the same body whatever happened."""


class JwkSchema(Schema):
    kty = fields.String(required=True, metadata={"enum": ["OKP"]})
    crv = fields.String(required=True, metadata={"enum": ["Ed25519"]})
    x = fields.String(required=True)
    alg = fields.String(required=True, metadata={"enum": ["EdDSA"]})
    use = fields.String(required=True, metadata={"enum": ["sig"]})
    kid = fields.String(required=True, metadata={"description": "RFC 7638 JWK thumbprint (SHA-256) of the key"})


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)


class AuthorizationServerMetadataSchema(Schema):
    """RFC 8414 metadata: a posting service configured with the issuer URL finds the rest here."""

    issuer = fields.String(required=True, metadata={"description": "the tokens' `iss`"})
    jwks_uri = fields.String(required=True)
    introspection_endpoint = fields.String(required=True)
    revocation_endpoint = fields.String(required=True)
    introspection_endpoint_auth_methods_supported = fields.List(
        fields.String(), required=True,
        metadata={"description": "`Bearer`: an API key with the `tokens:introspect` scope"})
    revocation_endpoint_auth_methods_supported = fields.List(
        fields.String(), required=True, metadata={"description": "`Bearer`: an API key with the `tokens:issue` scope"})
    scopes_supported = fields.List(fields.String(), required=True,
                                   metadata={"description": "what a token's `scope` may hold"})
    response_types_supported = fields.List(
        fields.String(), required=True,
        metadata={"description": "empty: tokens are issued to platforms by `POST /v1/tokens`, "
                                 "not through an OAuth authorization flow"})
    grant_types_supported = fields.List(fields.String(), required=True)
    service_documentation = fields.String(required=True)
