"""Request and response bodies of /v1/sanctions. The OpenAPI document is generated from these."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from identity.api.fields import Rfc3339, StrictString
from identity.api.schemas import EXAMPLE_PSEUDONYM, StrictSchema
from identity.models.sanction import REASON_CODES, SANCTION_KINDS

SANCTION_FILING_EXAMPLE = {"pseudonym": EXAMPLE_PSEUDONYM, "kind": "posting_ban",
                           "reason_code": "illegal_content", "evidence_ref": "report-8812",
                           "expires_at": "2027-01-01T00:00:00Z"}
SANCTION_LIFT_EXAMPLE = {"reason": "appeal upheld"}


class SanctionFilingSchema(StrictSchema):
    pseudonym = StrictString(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "one of the filing platform's pseudonyms"})
    kind = StrictString(required=True, validate=validate.OneOf(SANCTION_KINDS))
    reason_code = StrictString(required=True, validate=validate.OneOf(REASON_CODES))
    evidence_ref = StrictString(required=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "the platform's own opaque reference to its evidence"})
    expires_at = Rfc3339(allow_none=True, metadata={
        "description": "must be in the future; absent or null means until lifted"})


class SanctionLiftSchema(StrictSchema):
    reason = StrictString(required=True, validate=validate.Length(min=1, max=500))


class SanctionQuerySchema(StrictSchema):
    pseudonym = StrictString(required=True, validate=validate.Length(min=1, max=64))


class SanctionSchema(Schema):
    id = fields.String(required=True, metadata={"example": "snc_0h7k3m9x2q4w8r6t1v5y0z3a2b"})
    pseudonym = fields.String(required=True, metadata={"description": "the pseudonym it was filed against"})
    kind = fields.String(required=True, metadata={"enum": list(SANCTION_KINDS)})
    reason_code = fields.String(required=True, metadata={"enum": list(REASON_CODES)})
    evidence_ref = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, metadata={"enum": ["active", "expired", "lifted"]})
    created_at = Rfc3339(required=True)
    expires_at = Rfc3339(required=True, allow_none=True)
    lifted_at = Rfc3339(required=True, allow_none=True)
    lift_reason = fields.String(required=True, allow_none=True)
    scope = fields.String(required=True, metadata={"enum": ["platform", "global"]})
    group_id = fields.String(metadata={"description": "present only where a group's closure filed it"})


class SanctionListSchema(Schema):
    items = fields.List(fields.Nested(SanctionSchema), required=True)
