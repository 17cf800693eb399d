"""`identity-admin purge`: the retention schedule (docs/retention.md), run from cron.

Every batch is its own transaction with its audit event, so the command can be killed at any
moment and run again: it resumes. Progress goes to stderr; stdout carries only the outcome.
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from identity.cli.command_boundary import Outcome, current_time, keyring, operator_command, runtime
from identity.extensions import db
from identity.services import audit
from identity.services import purge as purge_service
from identity.services.operators import CLI_OPERATOR


@click.command("purge")
@with_appcontext
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 50_000))
@operator_command
def purge(batch_size: int) -> Outcome:
    """Delete what the service no longer needs: expired idempotency records, ended sanction traces,
    identities no hold keeps, audit events past IDENTITY_AUDIT_RETENTION_DAYS."""
    retention = timedelta(days=runtime().settings.audit_retention_days)
    totals: dict[str, int] = {}
    for step in purge_service.STEPS:
        totals[step.name] = 0
        while True:
            ctx = purge_service.PurgeContext(session=db.session(), keyring=keyring(), now=current_time(),
                                             audit_retention=retention, batch=batch_size)
            removed = step.run_batch(ctx)
            db.session.commit()
            if removed == 0:
                break
            totals[step.name] += removed
            click.echo(f"{step.name}: {totals[step.name]} so far", err=True)
    audit.record(db.session(), keyring(), actor=CLI_OPERATOR, action="purge.completed", details=totals,
                 now=current_time())
    text = "\n".join(f"{step.name}: {totals[step.name]} {step.what}" for step in purge_service.STEPS)
    return Outcome(text, {"purged": totals, "audit_retention_days": retention.days})

