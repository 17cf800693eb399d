"""/v1/verification-sessions: send a person to the service's own page; read how it ended."""

from __future__ import annotations

from typing import Any

from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.blueprint import Blueprint
from identity.api.idempotent import idempotent
from identity.api.openapi import raises
from identity.api.presenters import account_body
from identity.api.request_scope import current_keyring, current_time, principal, request_session, runtime
from identity.api.transactions import READS, WRITES, transaction
from identity.api.verification_session_schemas import (
    SESSION_CREATION_EXAMPLE,
    CreatedSessionSchema,
    SessionCreationSchema,
    VerificationSessionSchema,
)
from identity.errors import Conflict, NotFound
from identity.models import VerificationSession
from identity.services import accounts, verification_sessions

blp = Blueprint("verification-sessions", __name__, url_prefix="/v1/verification-sessions",
                description="The person enters their name and document on the service's own page; the platform "
                            "gets back only the outcome and, on success, the account.")


def session_body(row: VerificationSession) -> dict[str, Any]:
    now, account = current_time(), verification_sessions.account_of(request_session(), row)
    return {"id": row.id, "status": verification_sessions.status_of(row, now), "expires_at": row.expires_at,
            "external_ref": row.external_ref, "state": row.state,
            "account": None if account is None else account_body(
                accounts.view(request_session(), current_keyring(), account, now)),
            "last_error": None if row.last_error_code is None else {"code": row.last_error_code}}


@blp.route("", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Create a verification session",
         description="`return_url` must equal one of the platform policy's `return_urls`; the policy must name a "
                     "`notice_version`. The session expires 30 minutes after creation. `url` holds a single-use "
                     "secret: send the person there (e.g. with a 303), and keep it out of logs.")
@require_scope("registrations:write")
@idempotent
@blp.arguments(SessionCreationSchema, example=SESSION_CREATION_EXAMPLE)
@blp.response(201, CreatedSessionSchema, headers={"Location": {"schema": {"type": "string"}}})
def create_verification_session(body: dict[str, Any]) -> Any:
    created = verification_sessions.create(request_session(), principal(), verification_sessions.SessionRequest(
        return_url=body["return_url"], external_ref=body.get("external_ref"), state=body.get("state"),
        locale=body["locale"]), current_time())
    row = created.row
    url = verification_sessions.page_url(runtime().settings.issuer, row.id, created.secret)
    return ({"id": row.id, "url": url, "status": row.status, "expires_at": row.expires_at}, 201,
            {"Location": f"/v1/verification-sessions/{row.id}"})


@blp.route("/<string:session_id>", methods=["GET"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="Read a verification session",
         description="`failed` carries `last_error.code`: `registration_refused`, `duplicate_identity` (then "
                     "`account` is the person's existing account here) or `too_many_attempts` (5 refused "
                     "submissions). A pending session past `expires_at` reads `expired`.")
@require_scope("registrations:write")
@blp.response(200, VerificationSessionSchema)
@raises(NotFound)
def get_verification_session(session_id: str) -> Any:
    return session_body(verification_sessions.get(request_session(), principal(), session_id))


@blp.route("/<string:session_id>/cancel", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Cancel a pending verification session",
         description="Its link stops working at once (410). Canceling a canceled session changes nothing; one that "
                     "completed, failed or expired answers 409 `conflict`.")
@require_scope("registrations:write")
@idempotent
@blp.response(200, VerificationSessionSchema)
@raises(NotFound, Conflict)
def cancel_verification_session(session_id: str) -> Any:
    return session_body(verification_sessions.cancel(request_session(), principal(), session_id, current_time()))
