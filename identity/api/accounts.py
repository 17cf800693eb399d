"""/v1/accounts: read, list, close, and the person's personal data."""

from __future__ import annotations

from typing import Any

from identity.api.auth import BEARER_SECURITY, require_scope
from identity.api.blueprint import Blueprint
from identity.api.openapi import raises
from identity.api.presenters import account_body
from identity.api.request_scope import (
    current_keyring,
    current_time,
    principal,
    request_epochs,
    request_session,
    runtime,
)
from identity.api.schemas import (
    AccountListSchema,
    AccountQuerySchema,
    AccountSchema,
    PersonalDataSchema,
)
from identity.api.transactions import READS, WRITES, transaction
from identity.errors import CrossBorderAssessmentRequired, IdentityErased, NotFound
from identity.services import accounts

blp = Blueprint("accounts", __name__, url_prefix="/v1/accounts",
                description="A platform's accounts, known by pseudonym.")


@blp.route("/<string:pseudonym>", methods=["GET"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="Read an account")
@require_scope("accounts:read")
@blp.response(200, AccountSchema)
@raises(NotFound)
def get_account(pseudonym: str) -> Any:
    rt, platform_id = runtime(), principal().platform_id
    now, cache, epoch = rt.clock.now(), rt.account_views, request_epochs().get("access", 0)
    cached = cache.get(pseudonym, epoch, now)
    if cached is not None and cached[0] == platform_id:
        return cached[1]
    account = accounts.get_account(request_session(), platform_id, pseudonym)
    view = accounts.view(request_session(), current_keyring(), account, now)
    body = account_body(view)
    cache.put(pseudonym, (platform_id, body), epoch, view.valid_until(now))
    return body


@blp.route("", methods=["GET"])
@transaction(READS)
@blp.doc(security=BEARER_SECURITY, summary="Find this platform's accounts by external_ref")
@require_scope("accounts:read")
@blp.arguments(AccountQuerySchema, location="query")
@blp.response(200, AccountListSchema)
def list_accounts(query: dict[str, Any]) -> Any:
    now, keyring = current_time(), current_keyring()
    found = accounts.list_by_external_ref(request_session(), principal().platform_id, query["external_ref"])
    return {"items": [account_body(accounts.view(request_session(), keyring, a, now)) for a in found]}


@blp.route("/<string:pseudonym>", methods=["DELETE"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="Close an account",
         description="Closes the account. When the person has no other open account anywhere and no "
                     "sanction keeps it, their identity data is erased by destroying its key.")
@require_scope("accounts:write")
@blp.response(204)
@raises(NotFound)
def close_account(pseudonym: str) -> Any:
    accounts.close(request_session(), current_keyring(), principal(), pseudonym, current_time())
    return None


@blp.route("/<string:pseudonym>/personal-data", methods=["GET"])
@transaction(WRITES)
@blp.doc(security=BEARER_SECURITY, summary="What the service holds about the person (access request)")
@require_scope("accounts:read")
@blp.response(200, PersonalDataSchema)
@raises(NotFound, CrossBorderAssessmentRequired, IdentityErased)
def get_personal_data(pseudonym: str) -> Any:
    return accounts.personal_data(request_session(), current_keyring(), principal(), pseudonym, current_time())
