"""`identity-admin audit verify`."""

from __future__ import annotations

from flask.cli import AppGroup

from identity.cli.output import Outcome, keyring, operator_command
from identity.extensions import db
from identity.services import audit as audit_service

group = AppGroup("audit", help="The tamper-evident audit log.")


@group.command("verify")
@operator_command
def verify() -> Outcome:
    """Check the audit chain end to end; exits 1 if anything was altered, removed or re-ordered."""
    ring = keyring()
    report = audit_service.verify_chain(db.session(), ring)
    data = {"ok": report.ok, "events": report.events, "failures": report.failures}
    if report.ok:
        # Recorded after the walk, so this event is checked by the next verification.
        audit_service.record(db.session(), ring, actor="operator:cli", action="audit.verified",
                             details={"events": report.events, "ok": True})
        return Outcome(f"audit chain intact: {report.events} events", data)
    audit_service.record(db.session(), ring, actor="operator:cli", action="audit.verified",
                         details={"events": report.events, "ok": False, "failures": len(report.failures)})
    text = f"audit chain BROKEN: {len(report.failures)} problem(s) in {report.events} events\n" + \
        "\n".join(f"  {f}" for f in report.failures[:50])
    return Outcome(text, data, exit_code=1)
