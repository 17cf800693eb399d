"""Request and response bodies of /v1/webhook-endpoints. The OpenAPI document is generated from these."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from identity.api.fields import Rfc3339, StrictString
from identity.api.schemas import StrictSchema
from identity.services.webhooks.addresses import MAX_URL_LENGTH
from identity.services.webhooks.events import EVENT_TYPES

ENDPOINT_CREATION_EXAMPLE = {"url": "https://forum.example/hooks/identity",
                             "events": ["verification_session.completed", "account.closed"]}
EXAMPLE_ENDPOINT_ID = "whe_2m7k4q9x1w3r8t6v0y5z2a4b6c"


class EndpointCreationSchema(StrictSchema):
    url = StrictString(required=True, validate=validate.Length(min=1, max=MAX_URL_LENGTH), metadata={
        "description": "`https`; its host must resolve to public addresses only (the SSRF rule, "
                       "docs/webhooks.md), checked now and again at every delivery"})
    events = fields.List(StrictString(validate=validate.OneOf(EVENT_TYPES)), required=True,
                         validate=validate.Length(min=1, max=len(EVENT_TYPES)),
                         metadata={"description": "the event types to receive"})


class EndpointSchema(Schema):
    id = fields.String(required=True, metadata={"example": EXAMPLE_ENDPOINT_ID})
    url = fields.String(required=True)
    events = fields.List(fields.String(metadata={"enum": list(EVENT_TYPES)}), required=True)
    status = fields.String(required=True, metadata={
        "enum": ["enabled", "disabled"],
        "description": "`disabled` once every delivery failed for 3 days; create a new endpoint then"})
    created_at = Rfc3339(required=True)
    disabled_at = Rfc3339(required=True, allow_none=True)
    disabled_reason = fields.String(required=True, allow_none=True)


class CreatedEndpointSchema(EndpointSchema):
    secret = fields.String(required=True, allow_none=True, metadata={
        "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "description": "`whsec_` and the base64 of the signing secret's bytes, for a Standard Webhooks library. "
                       "Shown in this response only (and in an Idempotency-Key replay of it while the endpoint "
                       "exists; null after it was deleted)."})


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema), required=True)
