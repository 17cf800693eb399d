"""The body of GET /v1/sandbox/identities. The OpenAPI document is generated from it."""

from __future__ import annotations

from marshmallow import Schema, fields

from identity.services import sandbox

OUTCOMES = [identity.outcome for identity in sandbox.PUBLISHED]


class SandboxDocumentSchema(Schema):
    type = fields.String(required=True, metadata={"example": "cn_resident_id"})
    number = fields.String(required=True, metadata={"example": sandbox.PUBLISHED[0].number})


class SandboxIdentitySchema(Schema):
    outcome = fields.String(required=True, metadata={"enum": OUTCOMES})
    real_name = fields.String(required=True, metadata={"description": "the name to register it with"})
    id_document = fields.Nested(SandboxDocumentSchema, required=True)
    birth_date = fields.Date(required=True)
    status = fields.Integer(required=True, metadata={
        "description": "the status POST /v1/registrations answers (with this name, without guardian consent)"})
    code = fields.String(required=True, allow_none=True, metadata={"description": "the problem's code; null for 201"})
    description = fields.String(required=True)


class SandboxIdentityListSchema(Schema):
    items = fields.List(fields.Nested(SandboxIdentitySchema), required=True)
