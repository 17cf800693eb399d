"""Request and response bodies of /v1/verification-sessions. The OpenAPI document is generated from these."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from identity.api.fields import Rfc3339, StrictString
from identity.api.schemas import AccountSchema, StrictSchema
from identity.models.verification import SESSION_STATUSES
from identity.services.verification_sessions import DEFAULT_LOCALE, LOCALES

SESSION_CREATION_EXAMPLE = {"return_url": "https://forum.example/after-verify", "external_ref": "forum-user-42",
                            "state": "opaque-123", "locale": "zh-CN"}
EXAMPLE_SESSION_ID = "vs_5r2t8w1q6m3k9x0z4y7v2b5n8c"


class SessionCreationSchema(StrictSchema):
    return_url = StrictString(required=True, validate=validate.Length(min=1, max=2000),
                              metadata={"description": "one of the platform policy's `return_urls`, exactly; the "
                                                       "person is sent there with `?session=vs_…&state=…`"})
    external_ref = StrictString(validate=validate.Length(min=1, max=128),
                                metadata={"description": "the platform's own opaque user reference, given to the "
                                                         "account the session opens"})
    state = StrictString(validate=validate.Length(min=1, max=128),
                         metadata={"description": "comes back unchanged, in the redirect and when the session is read"})
    locale = StrictString(load_default=DEFAULT_LOCALE, validate=validate.OneOf(LOCALES),
                          metadata={"description": "the page's language"})


class CreatedSessionSchema(Schema):
    id = fields.String(required=True, metadata={"example": EXAMPLE_SESSION_ID})
    url = fields.String(required=True, metadata={
        "description": "the page to send the person to; it holds a single-use secret: do not log it"})
    status = fields.String(required=True, metadata={"enum": list(SESSION_STATUSES)})
    expires_at = Rfc3339(required=True)


class LastErrorSchema(Schema):
    code = fields.String(required=True, metadata={
        "enum": ["registration_refused", "duplicate_identity", "too_many_attempts", "validation_failed",
                 "identity_not_verified", "age_requirement_not_met", "guardian_consent_required"],
        "description": "why it failed, or the last refused submission of a pending session"})


class VerificationSessionSchema(Schema):
    id = fields.String(required=True, metadata={"example": EXAMPLE_SESSION_ID})
    status = fields.String(required=True, metadata={"enum": list(SESSION_STATUSES)})
    expires_at = Rfc3339(required=True)
    external_ref = fields.String(required=True, allow_none=True)
    state = fields.String(required=True, allow_none=True)
    account = fields.Nested(AccountSchema, required=True, allow_none=True, metadata={
        "description": "the account opened (`completed`), or the person's existing one here (`failed` with "
                       "`duplicate_identity`); else null"})
    last_error = fields.Nested(LastErrorSchema, required=True, allow_none=True)
