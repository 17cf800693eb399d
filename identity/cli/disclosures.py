"""`identity-admin disclosures request|approve|deny|reveal|list`: thin over `services.disclosures`.

The identity a reveal prints is a sealed box only its authority can open; nothing of it is
ever written in clear, here or anywhere.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, current_time, keyring, operator_command, operator_option
from identity.clock import rfc3339
from identity.errors import OperatorError
from identity.extensions import db
from identity.services import disclosures
from identity.services.operators import check_operator

group = AppGroup("disclosures", help="Lawful disclosure requests: two operators, a sealed answer, once.")


@group.command("request")
@click.option("--platform", "platform_id", required=True, help="The platform's id (plt_…).")
@click.option("--pseudonym", required=True, help="The pseudonym on that platform (psn_…).")
@click.option("--authority", required=True, help="Who asks (e.g. the investigating bureau).")
@click.option("--case-ref", required=True, help="The authority's case reference.")
@click.option("--legal-basis", required=True, help="The law and article the request rests on.")
@operator_option
@operator_command
def request(platform_id: str, pseudonym: str, authority: str, case_ref: str, legal_basis: str,
            operator: str | None) -> Outcome:
    """Record an authority's request; a second operator must approve it before anything is revealed."""
    view = disclosures.request(db.session(), keyring(), check_operator(operator), platform_id=platform_id,
                               pseudonym=pseudonym, authority=authority, case_ref=case_ref,
                               legal_basis=legal_basis, now=current_time())
    return Outcome(f"recorded disclosure request {view.request.id} (pending); another operator must approve it",
                   {"id": view.request.id, "status": view.status})


@group.command("approve")
@click.argument("disclosure_id")
@operator_option
@operator_command
def approve(disclosure_id: str, operator: str | None) -> Outcome:
    """Approve a pending request (not your own); the approval lapses after 72 hours."""
    view = disclosures.approve(db.session(), keyring(), check_operator(operator), disclosure_id, current_time())
    data = view.as_json()
    return Outcome(f"approved disclosure request {view.request.id}; it may be revealed once until "
                   f"{data['approval_expires_at']}", data)


@group.command("deny")
@click.argument("disclosure_id")
@click.option("--reason", required=True, help="Why the request is refused or withdrawn.")
@operator_option
@operator_command
def deny(disclosure_id: str, reason: str, operator: str | None) -> Outcome:
    """End a pending or approved request without revealing anything."""
    view = disclosures.deny(db.session(), keyring(), check_operator(operator), disclosure_id, reason, current_time())
    return Outcome(f"denied disclosure request {view.request.id}", view.as_json())


@group.command("reveal")
@click.argument("disclosure_id")
@click.option("--recipient-key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the authority's X25519 public key, base64.")
@operator_option
@operator_command
def reveal(disclosure_id: str, key_file: Path, operator: str | None) -> Outcome:
    """Print the identity sealed to the authority's key (base64), once, while the approval stands."""
    name = check_operator(operator)
    try:
        raw = key_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise OperatorError("cannot read the recipient key file") from None
    recipient = disclosures.parse_recipient_key(raw)
    try:
        revealed = disclosures.reveal(db.session(), keyring(), name, disclosure_id, recipient, current_time())
    except disclosures.NothingToReveal:
        # The refusal is a step too: keep its audit event, then fail as any command does.
        db.session.commit()
        raise
    return Outcome(revealed.sealed_box, {"id": revealed.view.request.id, "sealed_box": revealed.sealed_box})


@group.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "denied", "revealed", "lapsed"]),
              help="Only requests in this state.")
@operator_command
def list_(status: str | None) -> Outcome:
    """Every request and its state, oldest first; no identities."""
    views = disclosures.list_requests(db.session(), current_time(), status)
    lines = [f"{v.request.id}  {v.status:<8}  {rfc3339(v.request.requested_at)}  {v.request.platform_id}  "
             f"{v.request.authority}  {v.request.case_ref}" for v in views]
    return Outcome("\n".join(lines) or "no disclosure requests", {"items": [v.as_json() for v in views]})
