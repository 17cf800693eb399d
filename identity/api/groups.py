"""/v1/groups: found, read, list, manage and close the platform's groups."""

from __future__ import annotations

from typing import Any

from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.blueprint import Blueprint
from identity.api.group_schemas import (
    CLOSURE_EXAMPLE,
    GROUP_CREATION_EXAMPLE,
    MANAGER_EXAMPLE,
    ClosureSchema,
    GroupCreationSchema,
    GroupListSchema,
    GroupQuerySchema,
    GroupSchema,
    ManagerSchema,
)
from identity.api.idempotent import idempotent
from identity.api.openapi import raises
from identity.api.request_scope import current_keyring, current_time, principal, request_session
from identity.api.transactions import READS, WRITES, transaction
from identity.errors import Conflict, GroupCreationRefused, GroupManagementRefused, NotFound
from identity.extensions import db
from identity.services import groups

blp = Blueprint("groups", __name__, url_prefix="/v1/groups",
                description="Groups hold their founders to account: limits and credit bind the person behind "
                            "the founding account, over all of their accounts on the platform.")


def group_body(view: groups.GroupView) -> dict[str, Any]:
    g = view.group
    closure = None
    if g.closure_reason_code is not None:
        closure = {"reason_code": g.closure_reason_code, "evidence_ref": g.closure_evidence_ref}
    return {"id": g.id, "founder": view.founder, "managers": view.managers, "status": g.status,
            "external_ref": g.external_ref, "created_at": g.created_at, "closed_at": g.closed_at,
            "closure": closure}


@blp.route("", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Found a group",
         description="Refused with 403 `group_creation_refused` where the founder's person is suspended from "
                     "group management here, has a credit score under the policy's `min_credit_to_found`, or "
                     "already founded `max_groups_per_person` open groups here through any of their accounts.")
@require_scope("groups:write")
@idempotent
@blp.arguments(GroupCreationSchema, example=GROUP_CREATION_EXAMPLE)
@blp.response(201, GroupSchema, headers={"Location": {"schema": {"type": "string"}}})
@raises(GroupCreationRefused, NotFound)
def create_group(body: dict[str, Any]) -> Any:
    caller = principal()
    try:
        view = groups.create(request_session(), current_keyring(), caller, body["founder"], body.get("external_ref"),
                             current_time())
    except GroupCreationRefused as refused:
        # The request's transaction rolls back; the refusal is recorded in one of its own.
        db.session.rollback()
        groups.record_refusal(request_session(), current_keyring(), caller, refused, current_time())
        db.session.commit()
        raise
    return group_body(view), 201, {"Location": f"/v1/groups/{view.group.id}"}


@blp.route("", methods=["GET"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="Groups founded by an account, newest first",
         description="Only the groups founded by this account, not those of the person's other accounts.")
@require_scope("groups:read")
@blp.arguments(GroupQuerySchema, location="query")
@blp.response(200, GroupListSchema)
@raises(NotFound)
def list_groups(query: dict[str, Any]) -> Any:
    return {"items": [group_body(v) for v in groups.founded_by(request_session(), principal(), query["founder"])]}


@blp.route("/<string:group_id>", methods=["GET"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="Read a group")
@require_scope("groups:read")
@blp.response(200, GroupSchema)
@raises(NotFound)
def get_group(group_id: str) -> Any:
    return group_body(groups.get(request_session(), principal(), group_id))


@blp.route("/<string:group_id>/managers", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Add a manager",
         description="The account's person must hold `group:manage` on this platform (no active "
                     "group-management suspension): 403 `group_management_refused` otherwise. Adding a "
                     "manager twice changes nothing.")
@require_scope("groups:write")
@idempotent
@blp.arguments(ManagerSchema, example=MANAGER_EXAMPLE)
@blp.response(200, GroupSchema)
@raises(GroupManagementRefused, NotFound, Conflict)
def add_manager(body: dict[str, Any], group_id: str) -> Any:
    return group_body(groups.add_manager(request_session(), current_keyring(), principal(), group_id, body["pseudonym"],
                                         current_time()))


@blp.route("/<string:group_id>/managers/<string:pseudonym>", methods=["DELETE"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Remove a manager")
@require_scope("groups:write")
@blp.response(204)
@raises(NotFound, Conflict)
def remove_manager(group_id: str, pseudonym: str) -> Any:
    groups.remove_manager(request_session(), current_keyring(), principal(), group_id, pseudonym, current_time())
    return None


@blp.route("/<string:group_id>/closure", methods=["POST"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Close a group",
         description="In one transaction: the group is closed; its founder's credit score here drops by the "
                     "policy's `credit_penalty` for `credit_penalty_days`; founder and managers get a "
                     "`group_management_suspension` for `suspension_days`; where the founder's score falls under "
                     "`blacklist_below`, a `blacklist` too, until the score would climb back by itself. Each "
                     "sanction shows in the sanctions API with `group_id`. Closing a closed group answers 409.")
@require_scope("groups:write")
@idempotent
@blp.arguments(ClosureSchema, example=CLOSURE_EXAMPLE)
@blp.response(200, GroupSchema)
@raises(NotFound, Conflict)
def close_group(body: dict[str, Any], group_id: str) -> Any:
    outcome = groups.close(request_session(), current_keyring(), principal(), group_id,
                           groups.Closure(reason_code=body["reason_code"], evidence_ref=body["evidence_ref"]),
                           current_time())
    return group_body(outcome.view)
