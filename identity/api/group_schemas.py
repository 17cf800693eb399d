"""Request and response bodies of /v1/groups. The OpenAPI document is generated from these."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from identity.api.fields import Rfc3339, StrictString
from identity.api.schemas import EXAMPLE_PSEUDONYM, StrictSchema
from identity.models.sanction import REASON_CODES

GROUP_CREATION_EXAMPLE = {"founder": EXAMPLE_PSEUDONYM, "external_ref": "group-9"}
MANAGER_EXAMPLE = {"pseudonym": "psn_4b2a3z0y5v1t6r8w4q2x9m3k7p"}
CLOSURE_EXAMPLE = {"reason_code": "illegal_content", "evidence_ref": "report-9001"}


class GroupCreationSchema(StrictSchema):
    founder = StrictString(required=True, validate=validate.Length(min=1, max=64),
                           metadata={"description": "the founder's pseudonym on this platform"})
    external_ref = StrictString(validate=validate.Length(min=1, max=128),
                                metadata={"description": "the platform's own opaque group reference"})


class ManagerSchema(StrictSchema):
    pseudonym = StrictString(required=True, validate=validate.Length(min=1, max=64))


class ClosureSchema(StrictSchema):
    reason_code = StrictString(required=True, validate=validate.OneOf(REASON_CODES))
    evidence_ref = StrictString(required=True, validate=validate.Length(min=1, max=200),
                                metadata={"description": "the platform's own opaque reference to its evidence"})


class GroupQuerySchema(StrictSchema):
    founder = StrictString(required=True, validate=validate.Length(min=1, max=64),
                           metadata={"description": "groups founded by this account (not by the person's others)"})


class GroupClosureOutSchema(Schema):
    reason_code = fields.String(required=True, metadata={"enum": list(REASON_CODES)})
    evidence_ref = fields.String(required=True)


class GroupSchema(Schema):
    id = fields.String(required=True, metadata={"example": "grp_0h7k3m9x2q4w8r6t1v5y0z3a2b"})
    founder = fields.String(required=True, metadata={"description": "the founding account's pseudonym"})
    managers = fields.List(fields.String(), required=True, metadata={"description": "pseudonyms of the managers"})
    status = fields.String(required=True, metadata={"enum": ["active", "closed"]})
    external_ref = fields.String(required=True, allow_none=True)
    created_at = Rfc3339(required=True)
    closed_at = Rfc3339(required=True, allow_none=True)
    closure = fields.Nested(GroupClosureOutSchema, required=True, allow_none=True,
                            metadata={"description": "why it was closed; null while it is active"})


class GroupListSchema(Schema):
    items = fields.List(fields.Nested(GroupSchema), required=True)
