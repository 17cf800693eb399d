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


class RegistrationSchema(StrictSchema):
    real_name = StrictString(required=True, validate=validate.Length(min=1, max=256))
    id_document = fields.Nested(IdDocumentSchema, required=True)
    phone = StrictString(validate=validate.Length(min=1, max=32), metadata={"description": "E.164"})
    external_ref = StrictString(validate=validate.Length(min=1, max=128))
    consent = fields.Nested(ConsentSchema, required=True)


class VerificationSchema(Schema):
    level = fields.String(metadata={"enum": ["document_checked", "authority_verified"]})
    method = fields.String()
    verified_at = Rfc3339()


class RestrictionSchema(Schema):
    sanction_id = fields.String()
    kind = fields.String()
    expires_at = Rfc3339(allow_none=True)


class AttributesSchema(Schema):
    adult = fields.Boolean()


class CreditSchema(Schema):
    score = fields.Integer(metadata={"description": "0 to 100 on this platform; 100 without penalties",
                                     "example": 80})
    level = fields.String(metadata={"enum": ["A", "B", "C", "D"],
                                    "description": "A >= 90, B >= 70, C >= 50, D below"})


class AccountSchema(Schema):
    pseudonym = fields.String(metadata={"example": "psn_7k3m9x2q4w8r6t1v5y0z3a2b4c"})
    status = fields.String(metadata={"enum": ["active", "restricted", "closed"]})
    verification = fields.Nested(VerificationSchema)
    attributes = fields.Nested(AttributesSchema)
    restrictions = fields.List(fields.Nested(RestrictionSchema))
    credit = fields.Nested(CreditSchema)
    external_ref = fields.String(allow_none=True)
    created_at = Rfc3339()


class AccountListSchema(Schema):
    items = fields.List(fields.Nested(AccountSchema))


class AccountQuerySchema(StrictSchema):
    external_ref = StrictString(required=True, validate=validate.Length(min=1, max=128))


class MaskedDocumentSchema(Schema):
    type = fields.String()
    number = fields.String(metadata={"description": "first 3 and last 2 characters; the rest masked"})
    issuing_country = fields.String()


class ConsentOutSchema(Schema):
    notice_version = fields.String()
    accepted_at = Rfc3339()
    guardian_consent = fields.Boolean()


class PersonalDataSchema(Schema):
    real_name = fields.String()
    id_document = fields.Nested(MaskedDocumentSchema)
    phone = fields.String(allow_none=True)
    consent = fields.Nested(ConsentOutSchema)
    verification = fields.Nested(VerificationSchema)
    created_at = Rfc3339()
    retention = fields.String()


class ProblemSchema(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    existing_pseudonyms = fields.List(fields.String())
