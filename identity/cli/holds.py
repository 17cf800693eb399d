"""`identity-admin holds place|release`: legal holds that keep an identity through account closure."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, current_time, keyring, operator_command, operator_option
from identity.extensions import db
from identity.services import holds
from identity.services.operators import check_operator

group = AppGroup("holds", help="Legal holds: keep a person's identity while a case needs it.")


@group.command("place")
@click.option("--platform", "platform_id", required=True, help="The platform's id (plt_…).")
@click.option("--pseudonym", required=True, help="The pseudonym on that platform (psn_…).")
@click.option("--case-ref", required=True, help="The case the hold is for.")
@operator_option
@operator_command
def place(platform_id: str, pseudonym: str, case_ref: str, operator: str | None) -> Outcome:
    """Hold the person behind a pseudonym: closing their accounts keeps their identity until released."""
    hold = holds.place(db.session(), keyring(), check_operator(operator), platform_id=platform_id,
                       pseudonym=pseudonym, case_ref=case_ref, now=current_time())
    return Outcome(f"placed legal hold {hold.id}", {"id": hold.id})


@group.command("release")
@click.argument("hold_id")
@operator_option
@operator_command
def release(hold_id: str, operator: str | None) -> Outcome:
    """Release a hold; a person with no open account is then erased as the erasure rules say."""
    hold, state = holds.release(db.session(), keyring(), check_operator(operator), hold_id, current_time())
    return Outcome(f"released legal hold {hold.id}; the person's data is now {state.replace('_', ' ')}",
                   {"id": hold.id, "status": "released", "person_state": state})
