"""/v1/sanctions: file, read, list and lift the platform's own sanctions."""

from __future__ import annotations

from typing import Any

from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.blueprint import Blueprint
from identity.api.idempotent import idempotent
from identity.api.openapi import raises
from identity.api.request_scope import current_keyring, current_time, principal, request_session
from identity.api.sanction_schemas import (
    SANCTION_FILING_EXAMPLE,
    SANCTION_LIFT_EXAMPLE,
    SanctionFilingSchema,
    SanctionLiftSchema,
    SanctionListSchema,
    SanctionQuerySchema,
    SanctionSchema,
)
from identity.api.transactions import READS, WRITES, transaction
from identity.errors import Conflict, IdentityErased, NotFound
from identity.services import sanctions

blp = Blueprint("sanctions", __name__, url_prefix="/v1/sanctions",
                description="Sanctions bind the person behind a pseudonym on the filing platform, all of their "
                            "accounts there, and follow them through closing and registering again.")


def sanction_body(view: sanctions.SanctionView) -> dict[str, Any]:
    s = view.sanction
    return {"id": s.id, "pseudonym": view.pseudonym, "kind": s.kind, "reason_code": s.reason_code,
            "evidence_ref": s.evidence_ref, "status": view.status, "created_at": s.created_at,
            "expires_at": s.expires_at, "lifted_at": s.lifted_at, "lift_reason": s.lift_reason, "scope": s.scope,
            # Only on the sanctions a group's closure filed.
            **({"group_id": s.group_id} if s.group_id is not None else {})}


@blp.route("", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="File a sanction",
         description="Binds the person behind the pseudonym on this platform, all of their accounts here, at once. "
                     "A closed account may be sanctioned while this platform still holds the person (another "
                     "open account here, or an active sanction it filed); otherwise the filing answers 410 "
                     "`identity_erased` (file before closing), whatever the person holds on other platforms.")
@require_scope("sanctions:write")
@idempotent
@blp.arguments(SanctionFilingSchema, example=SANCTION_FILING_EXAMPLE)
@blp.response(201, SanctionSchema, headers={"Location": {"schema": {"type": "string"}}})
@raises(NotFound, IdentityErased)
def file_sanction(body: dict[str, Any]) -> Any:
    filing = sanctions.Filing(pseudonym=body["pseudonym"], kind=body["kind"], reason_code=body["reason_code"],
                              evidence_ref=body["evidence_ref"], expires_at=body.get("expires_at"))
    view = sanctions.file(request_session(), current_keyring(), principal(), filing, current_time())
    return sanction_body(view), 201, {"Location": f"/v1/sanctions/{view.sanction.id}"}


@blp.route("", methods=["GET"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="A person's sanctions on this platform, newest first",
         description="Every sanction this platform filed against the person behind the pseudonym, whichever of "
                     "their accounts here it was filed against, lifted and expired ones included.")
@require_scope("sanctions:read")
@blp.arguments(SanctionQuerySchema, location="query")
@blp.response(200, SanctionListSchema)
@raises(NotFound)
def list_sanctions(query: dict[str, Any]) -> Any:
    found = sanctions.history(request_session(), principal(), query["pseudonym"], current_time())
    return {"items": [sanction_body(v) for v in found]}


@blp.route("/<string:sanction_id>", methods=["GET"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="Read a sanction")
@require_scope("sanctions:read")
@blp.response(200, SanctionSchema)
@raises(NotFound)
def get_sanction(sanction_id: str) -> Any:
    return sanction_body(sanctions.get(request_session(), principal(), sanction_id, current_time()))


@blp.route("/<string:sanction_id>/lift", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Lift a sanction",
         description="Ends an active sanction. Lifting one that is already lifted or expired answers 409 "
                     "`conflict`: its history already says how it ended.")
@require_scope("sanctions:write")
@idempotent
@blp.arguments(SanctionLiftSchema, example=SANCTION_LIFT_EXAMPLE)
@blp.response(200, SanctionSchema)
@raises(NotFound, Conflict)
def lift_sanction(body: dict[str, Any], sanction_id: str) -> Any:
    return sanction_body(sanctions.lift(request_session(), current_keyring(), principal(), sanction_id, body["reason"],
                                        current_time()))
