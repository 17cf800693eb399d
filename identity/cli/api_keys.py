"""`identity-admin api-keys issue|revoke`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from identity.cli.output import Outcome, keyring, operator_command, runtime
from identity.extensions import db
from identity.services import platforms

group = AppGroup("api-keys", help="Issue and revoke platforms' API keys.")


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


@group.command("revoke")
@click.argument("key_id")
@operator_command
def revoke(key_id: str) -> Outcome:
    """Revoke a key: every server process refuses it from its next request."""
    row = platforms.revoke_api_key(db.session(), keyring(), key_id)
    return Outcome(f"revoked API key {row.id}", {"key_id": row.id, "revoked": True})
