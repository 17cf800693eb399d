"""POST /v1/registrations."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from identity.api import registering
from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.idempotent import idempotent
from identity.api.openapi import raises
from identity.api.presenters import account_body
from identity.api.request_scope import principal
from identity.api.schemas import REGISTRATION_EXAMPLE, AccountSchema, RegistrationSchema
from identity.errors import (
    AgeRequirementNotMet,
    Conflict,
    DuplicateIdentity,
    GuardianConsentRequired,
    IdentityNotVerified,
    RegistrationRefused,
    VerificationUnavailable,
)
from identity.services import registration

blp = Blueprint("registrations", __name__, url_prefix="/v1/registrations",
                description="Register a person under a verified real name; get back a pseudonym.")


def _request_from(body: dict[str, Any]) -> registration.RegistrationRequest:
    document, consent = body["id_document"], body["consent"]
    return registration.RegistrationRequest(
        real_name=body["real_name"], id_type=document["type"], id_number=document["number"],
        issuing_country=document.get("issuing_country"), phone=body.get("phone"),
        external_ref=body.get("external_ref"), notice_version=consent["notice_version"],
        accepted_at=consent["accepted_at"], guardian_consent=consent.get("guardian_consent"))


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER_SECURITY, summary="Register a person")
@require_scope("registrations:write")
@idempotent
@blp.arguments(RegistrationSchema(), example=REGISTRATION_EXAMPLE)  # an instance: built once, not per request
@blp.response(201, AccountSchema, headers={"Location": {"schema": {"type": "string"}}})
@raises(DuplicateIdentity, RegistrationRefused, GuardianConsentRequired, AgeRequirementNotMet, IdentityNotVerified,
        VerificationUnavailable, Conflict)
def create_registration(body: dict[str, Any]) -> Any:
    view = registering.register(principal(), _request_from(body))
    return account_body(view), 201, {"Location": f"/v1/accounts/{view.account.pseudonym}"}
