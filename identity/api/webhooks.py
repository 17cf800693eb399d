"""/v1/webhook-endpoints: where a platform hears of its events, signed as Standard Webhooks says."""

from __future__ import annotations

from typing import Any

from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.blueprint import Blueprint
from identity.api.idempotent import ShownOnce, idempotent
from identity.api.openapi import raises
from identity.api.request_scope import current_keyring, current_time, principal, request_session, runtime
from identity.api.transactions import READS, WRITES, transaction
from identity.api.webhook_schemas import (
    ENDPOINT_CREATION_EXAMPLE,
    CreatedEndpointSchema,
    EndpointCreationSchema,
    EndpointListSchema,
)
from identity.errors import NotFound
from identity.models import WebhookEndpoint
from identity.services.webhooks import endpoints

blp = Blueprint("webhook_endpoints", __name__, url_prefix="/v1/webhook-endpoints",
                description="Endpoints the platform's events are posted to, signed as the Standard Webhooks "
                            "specification says, at least once, retried for 3 days (docs/webhooks.md).")


def endpoint_body(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {"id": endpoint.id, "url": endpoint.url, "events": endpoint.event_types, "status": endpoint.status,
            "created_at": endpoint.created_at, "disabled_at": endpoint.disabled_at,
            "disabled_reason": endpoint.disabled_reason}


def _reveal(answer: dict[str, Any]) -> str | None:
    return endpoints.reveal_secret(request_session(), current_keyring(), principal(), str(answer.get("id")))


@blp.route("", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Add a webhook endpoint",
         description="The answer carries the endpoint's signing secret, shown this once. The URL must be `https` "
                     "and its host must resolve to public addresses only; anything else is 422 "
                     "`validation_failed` naming `url`.")
@require_scope("webhooks:write")
@idempotent(shown_once=ShownOnce("secret", _reveal))
@blp.arguments(EndpointCreationSchema, example=ENDPOINT_CREATION_EXAMPLE)
@blp.response(201, CreatedEndpointSchema, headers={"Location": {"schema": {"type": "string"}}})
@raises()
def create_webhook_endpoint(body: dict[str, Any]) -> Any:
    created = endpoints.create(request_session(), current_keyring(), principal(), body["url"], body["events"],
                               allow_private=runtime().settings.webhook_allow_private, now=current_time())
    return ({**endpoint_body(created.endpoint), "secret": created.secret}, 201,
            {"Location": f"/v1/webhook-endpoints/{created.endpoint.id}"})


@blp.route("", methods=["GET"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="The platform's webhook endpoints, oldest first",
         description="Enabled and disabled ones; never their secrets.")
@require_scope("webhooks:write")
@blp.response(200, EndpointListSchema)
@raises()
def list_webhook_endpoints() -> Any:
    return {"items": [endpoint_body(e) for e in endpoints.listed(request_session(), principal())]}


@blp.route("/<string:endpoint_id>", methods=["DELETE"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Delete a webhook endpoint",
         description="Nothing more is posted to it: its pending deliveries are abandoned and its secret destroyed. "
                     "Another platform's endpoint, or one already deleted, is 404.")
@require_scope("webhooks:write")
@blp.response(204)
@raises(NotFound)
def delete_webhook_endpoint(endpoint_id: str) -> Any:
    endpoints.delete(request_session(), current_keyring(), principal(), endpoint_id, current_time())
    return None
