"""Turn service results into the dicts the response schemas dump."""

from __future__ import annotations

from typing import Any

from identity.services.accounts import AccountView


def account_body(view: AccountView) -> dict[str, Any]:
    account = view.account
    return {
        "pseudonym": account.pseudonym,
        "status": view.status,
        "verification": {"level": account.verification_level, "method": account.verification_method,
                         "verified_at": account.verified_at},
        "attributes": {"adult": view.adult},
        "restrictions": [{"sanction_id": s.id, "kind": s.kind, "expires_at": s.expires_at}
                         for s in view.restrictions],
        "credit": {"score": view.credit.score, "level": view.credit.level},
        "external_ref": account.external_ref,
        "created_at": account.created_at,
    }
