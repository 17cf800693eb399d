"""`identity-admin sanctions blacklist-global|purge-expired`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, current_time, keyring, operator_command
from identity.clock import rfc3339
from identity.extensions import db
from identity.services import sanctions

group = AppGroup("sanctions", help="Widen blacklists; erase what ended sanctions kept.")


@group.command("blacklist-global")
@click.argument("sanction_id")
@operator_command
def blacklist_global(sanction_id: str) -> Outcome:
    """Widen an active blacklist to every platform: all of them refuse the person's registrations."""
    widening = sanctions.widen_to_global(db.session(), keyring(), sanction_id, current_time())
    s = widening.sanction
    data = {"id": s.id, "kind": s.kind, "scope": s.scope, "changed": widening.changed,
            "expires_at": rfc3339(s.expires_at)}
    if not widening.changed:
        return Outcome(f"sanction {s.id} already covers every platform", data)
    return Outcome(f"sanction {s.id} now refuses registrations on every platform", data)


@group.command("purge-expired")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@operator_command
def purge_expired(batch_size: int) -> Outcome:
    """Erase the traces kept for sanctions that have since expired or been lifted. Safe to run from
    cron at any interval; each batch is committed, so an interrupted run resumes when run again."""
    ring, erased, examined = keyring(), 0, 0
    while True:
        done = sanctions.purge_expired_traces(db.session(), ring, current_time(), batch=batch_size)
        db.session.commit()
        if done.examined == 0:
            break
        erased, examined = erased + done.erased, examined + done.examined
        click.echo(f"erased {erased} trace(s) so far", err=True)
    return Outcome(f"erased {erased} trace(s) of ended sanctions", {"erased": erased, "examined": examined})
