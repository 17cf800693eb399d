"""`identity-admin api-keys issue|list|revoke`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, keyring, operator_command, runtime
from identity.clock import rfc3339
from identity.extensions import db
from identity.models import ApiKey
from identity.services import platforms

group = AppGroup("api-keys", help="Issue, list and revoke platforms' API keys.")


@group.command("issue")
@click.argument("platform_id")
@click.option("--scopes", required=True, help=f"comma-separated, from: {','.join(platforms.SCOPES)}")
@operator_command
def issue(platform_id: str, scopes: str) -> Outcome:
    """Print a new API key once; only its argon2id hash is kept."""
    wanted = platforms.parse_scopes(scopes)
    row, api_key = platforms.issue_api_key(db.session(), keyring(), runtime().hasher, platform_id, wanted)
    text = (f"issued API key {row.id} for {platform_id} with scopes {', '.join(wanted)}\n"
            f"{api_key}\n"
            "This key is shown once and cannot be recovered; store it now.")
    return Outcome(text, {"key_id": row.id, "api_key": api_key, "platform_id": platform_id, "scopes": wanted})


def _key_json(row: ApiKey) -> dict[str, object]:
    # Never the secret nor its hash. No "last used": docs/operations.md says why.
    return {"key_id": row.id, "scopes": sorted(row.scope_set, key=_scope_order),
            "state": "active" if row.revoked_at is None else "revoked",
            "created_at": rfc3339(row.created_at),
            "revoked_at": rfc3339(row.revoked_at)}


def _scope_order(scope: str) -> int:
    return platforms.SCOPES.index(scope) if scope in platforms.SCOPES else len(platforms.SCOPES)


@group.command("list")
@click.argument("platform_id")
@operator_command
def list_(platform_id: str) -> Outcome:
    """The platform's API keys: id, scopes, state, when created (and revoked); never the secret."""
    rows = platforms.list_api_keys(db.session(), platform_id)
    lines = [f"{row.id}  {'active' if row.revoked_at is None else 'revoked':<7}  created {rfc3339(row.created_at)}"
             + (f"  revoked {rfc3339(row.revoked_at)}" if row.revoked_at else "")
             + f"  {','.join(sorted(row.scope_set, key=_scope_order))}" for row in rows]
    return Outcome("\n".join(lines) or f"no API keys for {platform_id}",
                   {"platform_id": platform_id, "keys": [_key_json(row) for row in rows]})


@group.command("revoke")
@click.argument("key_id")
@operator_command
def revoke(key_id: str) -> Outcome:
    """Revoke a key: every server process refuses it from its next request."""
    row = platforms.revoke_api_key(db.session(), keyring(), key_id)
    return Outcome(f"revoked API key {row.id}", {"key_id": row.id, "revoked": True})
