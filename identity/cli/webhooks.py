"""`identity-admin webhooks deliver|status`: the delivery worker, and what it left undone."""

from __future__ import annotations

import signal
from datetime import timedelta
from types import FrameType

import click
from flask.cli import AppGroup

from identity.cli.command_boundary import Outcome, current_time, keyring, operator_command, runtime, unit_of_work
from identity.clock import rfc3339
from identity.extensions import db
from identity.services.webhooks import delivery, status
from identity.services.webhooks.worker import Worker

group = AppGroup("webhooks", help="Deliver webhook events; show endpoints, backlog and failures.")


@group.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (for cron, draining and tests).")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 1000),
              help="Deliveries claimed per transaction.")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64),
              help="Deliveries posted at once by this worker.")
@click.option("--lease-seconds", default=int(delivery.DEFAULT_LEASE.total_seconds()), show_default=True,
              type=click.IntRange(1, 3600),
              help="How long a claimed delivery stays this worker's; after that another worker may post it. "
                   "Keep it above the 10 s time-out.")
@click.option("--idle-seconds", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
              help="How long to wait when nothing is due.")
@operator_command
def deliver(once: bool, batch_size: int, concurrency: int, lease_seconds: int, idle_seconds: float) -> Outcome:
    """Post the outbox's events to the platforms' endpoints until stopped (SIGTERM or Ctrl-C stop it
    after the batch in flight). Several may run at once on PostgreSQL; on SQLite run one."""
    settings = runtime().settings
    worker = Worker(uow=unit_of_work, keyring=keyring, clock=current_time,
                    transport=delivery.Transport(allow_private=settings.webhook_allow_private,
                                                 pool_size=concurrency),
                    batch=batch_size, concurrency=concurrency, lease=timedelta(seconds=lease_seconds),
                    idle_seconds=idle_seconds)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        worker.stop.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        totals = worker.drain() if once else worker.run()
    finally:
        worker.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    data = {"delivered": totals.delivered, "retried": totals.retried, "abandoned": totals.abandoned,
            "expiries_announced": totals.expiries_announced, "disabled": totals.disabled}
    text = (f"delivered {totals.delivered}, to retry {totals.retried}, abandoned {totals.abandoned}, "
            f"expiries announced {totals.expiries_announced}, endpoints disabled {len(totals.disabled)}")
    return Outcome(text, data)


@group.command("status")
@operator_command
def show_status() -> Outcome:
    """Every endpoint's state and backlog; the failing ones and since when; the disabled ones, when and why."""
    now = current_time()
    rows = status.report(db.session(), now)
    lines = []
    for r in rows:
        line = f"{r.id}  {r.platform_id}  {r.host}  {r.status}  backlog {r.backlog} (due {r.due})"
        if r.failing_since:
            line += f"  failing since {rfc3339(r.failing_since)}: {r.last_error or 'unknown'}"
        if r.disabled_at:
            line += f"  disabled {rfc3339(r.disabled_at)}: {r.disabled_reason}"
        lines.append(line)
    summary = {"endpoints": len(rows), "backlog": sum(r.backlog for r in rows),
               "failing": sum(1 for r in rows if r.failing_since and r.status == "enabled"),
               "disabled": sum(1 for r in rows if r.status == "disabled")}
    head = (f"{summary['endpoints']} endpoint(s), backlog {summary['backlog']}, failing {summary['failing']}, "
            f"disabled {summary['disabled']}")
    return Outcome("\n".join([head, *lines]), {**summary, "items": [r.as_dict() for r in rows]})
