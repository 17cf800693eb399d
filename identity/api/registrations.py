"""POST /v1/registrations."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.context import current_keyring, current_time, principal, request_epochs, runtime
from identity.api.idempotent import idempotent
from identity.api.openapi import raises
from identity.api.presenters import account_body
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
from identity.extensions import db
from identity.metrics import REGISTRATIONS
from identity.rates import Rate
from identity.services import audit, mismatches, registration, sandbox
from identity.verifiers import OfflineVerifier, Verifier

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
    caller, now = principal(), current_time()
    limit = mismatches.platform_rate(caller, runtime().settings.mismatch_limit)
    references: dict[int, bytes] = {}
    try:
        prepared = registration.prepare(_request_from(body), caller, now)
        keyring = current_keyring()
        # Before anything about the document is looked up: once a limit is reached, every
        # registration it covers answers 429, whoever holds the number.
        references = mismatches.references(keyring, prepared.identity.document)
        verifier: Verifier = runtime().verifier
        held_under_another_name = False
        if caller.sandbox:
            # Published outcomes, never the real authority; and no mismatch limits: every name is
            # published (nothing to guess), and a platform's tests must get the same answer every run.
            verifier = sandbox.AUTHORITY
        else:
            mismatches.ensure_allowed(db.session(), caller.platform_id, limit, references, now,
                                      clear=runtime().mismatch_free_platforms, epoch=request_epochs().get("mismatches"))
            if not isinstance(verifier, OfflineVerifier):
                # Answer refusals and duplicates before asking the authority, then end the read
                # transaction: no database transaction stays open across the remote call.
                held_under_another_name = registration.precheck(db.session(), keyring, caller, prepared, now)
                db.session.commit()
        verification = verifier.verify(prepared.identity.real_name, prepared.identity.document)
        if held_under_another_name:
            raise registration.held_under_another_name()
        keyring = current_keyring()
        view = registration.register(db.session(), keyring, caller, prepared, verification, now)
    except RegistrationRefused as refused:
        _audit_refusal(refused)
        REGISTRATIONS.labels(outcome=refused.code).inc()
        raise
    except IdentityNotVerified as mismatch:
        _record_mismatch(mismatch, limit, references)
        REGISTRATIONS.labels(outcome=mismatch.code).inc()
        raise
    except Exception as error:
        REGISTRATIONS.labels(outcome=getattr(error, "code", "error")).inc()
        raise
    REGISTRATIONS.labels(outcome="registered").inc()
    return account_body(view), 201, {"Location": f"/v1/accounts/{view.account.pseudonym}"}


def _audit_refusal(refused: RegistrationRefused) -> None:
    """The request's own transaction rolls back; the refusal is recorded in one of its own."""
    db.session.rollback()
    caller = principal()
    audit.record(db.session(), current_keyring(), actor=caller.actor, action="registration.refused",
                 subject=refused.extra.get("_sanction_id"), details={"platform": caller.platform_id})
    db.session.commit()


def _record_mismatch(mismatch: IdentityNotVerified, limit: Rate, references: dict[int, bytes]) -> None:
    """Counted and audited in a transaction of its own (the request's rolls back), or turned
    into a 429 if racing mismatches reached a limit meanwhile."""
    db.session.rollback()
    try:
        mismatches.record(db.session(), current_keyring(), principal(), limit, references,
                          mismatch.extra.get("_source", "authority"), current_time(), counted=not principal().sandbox)
    except Exception as error:
        REGISTRATIONS.labels(outcome=getattr(error, "code", "error")).inc()
        raise
    db.session.commit()
