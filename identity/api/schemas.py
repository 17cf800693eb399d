"""Request and response bodies. The OpenAPI document is generated from these."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from identity.api.fields import Rfc3339, StrictBoolean, StrictString
from identity.documents import DOCUMENT_TYPES


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE  # nothing is collected that the contract does not name


class IdDocumentSchema(StrictSchema):
    type = StrictString(required=True, validate=validate.OneOf(DOCUMENT_TYPES))
    number = StrictString(required=True, validate=validate.Length(min=1, max=64))
    issuing_country = StrictString(validate=validate.Length(equal=3),
                                   metadata={"description": "ISO 3166-1 alpha-3; required for passports"})


class ConsentSchema(StrictSchema):
    notice_version = StrictString(required=True, validate=validate.Length(min=1, max=64))
    accepted_at = Rfc3339(required=True)
    guardian_consent = StrictBoolean(metadata={"description": "required true when the person is under 14"})


EXAMPLE_PSEUDONYM = "psn_7k3m9x2q4w8r6t1v5y0z3a2b4c"  # the contract's
# The contract's example, without `phone`: the default platform policy forbids collecting it.
REGISTRATION_EXAMPLE = {
    "real_name": "张三",
    "id_document": {"type": "cn_resident_id", "number": "11010519491231002X"},
    "external_ref": "forum-user-42",
    "consent": {"notice_version": "2026-01", "accepted_at": "2026-11-28T10:00:00Z"},
}


class RegistrationSchema(StrictSchema):
    real_name = StrictString(required=True, validate=validate.Length(min=1, max=256))
    id_document = fields.Nested(IdDocumentSchema, required=True)
    phone = StrictString(validate=validate.Length(min=1, max=32), metadata={"description": "E.164"})
    external_ref = StrictString(validate=validate.Length(min=1, max=128))
    consent = fields.Nested(ConsentSchema, required=True)


# Response bodies: `required=True` marks the fields always sent (null where allow_none), so the
# document's `required` lists tell a generated client which fields it can count on.
class VerificationSchema(Schema):
    level = fields.String(required=True, metadata={"enum": ["document_checked", "authority_verified"]})
    method = fields.String(required=True)
    verified_at = Rfc3339(required=True)


class RestrictionSchema(Schema):
    sanction_id = fields.String(required=True)
    kind = fields.String(required=True)
    expires_at = Rfc3339(required=True, allow_none=True)


class AttributesSchema(Schema):
    adult = fields.Boolean(required=True)


class CreditSchema(Schema):
    score = fields.Integer(required=True, metadata={"description": "0 to 100 on this platform; 100 without penalties",
                                     "example": 80})
    level = fields.String(required=True, metadata={"enum": ["A", "B", "C", "D"],
                                    "description": "A >= 90, B >= 70, C >= 50, D below"})


class AccountSchema(Schema):
    pseudonym = fields.String(required=True, metadata={"example": EXAMPLE_PSEUDONYM})
    status = fields.String(required=True, metadata={"enum": ["active", "restricted", "closed"]})
    verification = fields.Nested(VerificationSchema, required=True)
    attributes = fields.Nested(AttributesSchema, required=True)
    restrictions = fields.List(fields.Nested(RestrictionSchema), required=True)
    credit = fields.Nested(CreditSchema, required=True)
    external_ref = fields.String(required=True, allow_none=True)
    created_at = Rfc3339(required=True)


class AccountListSchema(Schema):
    items = fields.List(fields.Nested(AccountSchema), required=True)


class AccountQuerySchema(StrictSchema):
    external_ref = StrictString(required=True, validate=validate.Length(min=1, max=128))


class MaskedDocumentSchema(Schema):
    type = fields.String(required=True)
    number = fields.String(required=True, metadata={"description": "first 3 and last 2 characters; the rest masked"})
    issuing_country = fields.String(metadata={"description": "passports only"})


class ConsentOutSchema(Schema):
    notice_version = fields.String(required=True)
    accepted_at = Rfc3339(required=True)
    guardian_consent = fields.Boolean(required=True)


class PersonalDataSchema(Schema):
    real_name = fields.String(required=True)
    id_document = fields.Nested(MaskedDocumentSchema, required=True)
    phone = fields.String(required=True, allow_none=True)
    consent = fields.Nested(ConsentOutSchema, required=True)
    verification = fields.Nested(VerificationSchema, required=True)
    created_at = Rfc3339(required=True)
    retention = fields.String(required=True)


class ProblemSchema(Schema):
    """RFC 9457. Each operation's error responses narrow `code` to the values it can carry."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "on 422: dotted field paths and their messages"})
    existing_pseudonyms = fields.List(fields.String(), metadata={
        "description": "on 409 `duplicate_identity`: the person's open accounts on this platform"})
