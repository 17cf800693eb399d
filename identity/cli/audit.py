"""`identity-admin audit verify|checkpoint`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, current_time, keyring, operator_command
from identity.errors import OperatorError
from identity.extensions import db
from identity.services import audit as audit_service
from identity.services.operators import CLI_OPERATOR

group = AppGroup("audit", help="The tamper-evident audit log.")


@group.command("checkpoint")
@operator_command
def checkpoint() -> Outcome:
    """Print the chain's head, signed: keep it outside this database, give it to `audit verify
    --checkpoint` later to detect events deleted from the end of the log."""
    ring, now = keyring(), current_time()
    # Recorded first, so the checkpoint covers its own event.
    audit_service.record(db.session(), ring, actor=CLI_OPERATOR, action="audit.checkpointed", now=now)
    db.session.flush()
    taken = audit_service.take_checkpoint(db.session(), ring, now)
    data = taken.as_json()
    return Outcome(json.dumps(data), data)


@group.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A checkpoint `audit checkpoint` printed: the log must still reach it, unchanged.")
@operator_command
def verify(checkpoint_file: Path | None) -> Outcome:
    """Check the audit chain from its oldest kept event to its head; exits 1 if anything was
    altered, removed or re-ordered (with --checkpoint, also if events after it were removed)."""
    ring = keyring()
    taken = None
    if checkpoint_file is not None:
        try:
            taken = audit_service.load_checkpoint(ring, json.loads(checkpoint_file.read_text(encoding="utf-8")))
        except OSError as error:
            raise OperatorError(f"cannot read the checkpoint file: {error.strerror}") from None
        except ValueError as error:  # BadCheckpoint, or not JSON
            message = str(error) if isinstance(error, audit_service.BadCheckpoint) else "the checkpoint is not JSON"
            raise OperatorError(message) from None
    report = audit_service.verify_chain(db.session(), ring, taken)
    data = {"ok": report.ok, "events": report.events, "failures": report.failures}
    if report.ok:
        # Recorded after the walk, so this event is checked by the next verification.
        audit_service.record(db.session(), ring, actor=CLI_OPERATOR, action="audit.verified",
                             details={"events": report.events, "ok": True}, now=current_time())
        reached = f"; reaches checkpoint event {taken.seq}" if taken is not None else ""
        return Outcome(f"audit chain intact: {report.events} events{reached}", data)
    audit_service.record(db.session(), ring, actor=CLI_OPERATOR, action="audit.verified",
                         details={"events": report.events, "ok": False, "failures": len(report.failures)},
                         now=current_time())
    text = f"audit chain BROKEN: {len(report.failures)} problem(s) in {report.events} events\n" + \
        "\n".join(f"  {f}" for f in report.failures[:50])
    return Outcome(text, data, exit_code=1)
