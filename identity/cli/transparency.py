"""`identity-admin transparency report`: counts for publication; no identities, no pseudonyms."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import click
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, current_time, keyring, operator_command
from identity.errors import OperatorError
from identity.extensions import db
from identity.services import audit, transparency
from identity.services.operators import CLI_OPERATOR

group = AppGroup("transparency", help="Transparency reports on disclosures and sanctions.")


def _table(title: str, counts: dict[str, int]) -> list[str]:
    if not counts:
        return [f"{title}: none"]
    width = max(len(k) for k in counts)
    return [f"{title}:"] + [f"  {key:<{width}}  {n:>6}" for key, n in counts.items()]


@group.command("report")
@click.option("--from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="First day (UTC), inclusive.")
@click.option("--to", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day (UTC), inclusive.")
@operator_command
def report(start: datetime, end: datetime) -> Outcome:
    """Disclosures requested, approved, denied and revealed, and sanctions filed, day FROM to day TO."""
    first, last = start.date(), end.date()
    if last < first:
        raise OperatorError("--to must not be before --from")
    counts = transparency.report(db.session(), _midnight(first), _midnight(last + timedelta(days=1)))
    audit.record(db.session(), keyring(), actor=CLI_OPERATOR, action="transparency.reported",
                 details={"from": first.isoformat(), "to": last.isoformat()}, now=current_time())
    data: dict[str, Any] = {"from": first.isoformat(), "to": last.isoformat(), **counts}
    d = counts["disclosures"]
    lines = [f"Transparency report {first.isoformat()} to {last.isoformat()}",
             *_table("disclosures", {k: d[k] for k in ("requested", "approved", "denied", "revealed")}),
             *_table("requests by authority", d["by_authority"]),
             *_table("requests by legal basis", d["by_legal_basis"]),
             *_table("sanctions by kind", counts["sanctions"]["by_kind"]),
             *_table("sanctions by reason", counts["sanctions"]["by_reason"])]
    return Outcome("\n".join(lines), data)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
