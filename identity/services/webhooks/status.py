"""What `identity-admin webhooks status` tells the operator: every endpoint's state, its backlog,
the failing ones and the disabled ones with when and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from identity.clock import rfc3339
from identity.models import WebhookDelivery, WebhookEndpoint
from identity.models.webhook import ENDPOINT_DELETED
from identity.services.webhooks.endpoints import host_of


@dataclass(frozen=True)
class EndpointStatus:
    id: str
    platform_id: str
    host: str
    status: str
    backlog: int                 # deliveries still to make
    due: int                     # of which due now (late, or being posted)
    oldest_pending_at: datetime | None
    failing_since: datetime | None
    last_error: str | None
    disabled_at: datetime | None
    disabled_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "platform_id": self.platform_id, "host": self.host, "status": self.status,
                "backlog": self.backlog, "due": self.due, "oldest_pending_at": rfc3339(self.oldest_pending_at),
                "failing_since": rfc3339(self.failing_since), "last_error": self.last_error,
                "disabled_at": rfc3339(self.disabled_at), "disabled_reason": self.disabled_reason}


def report(session: Session, now: datetime) -> list[EndpointStatus]:
    pending = WebhookDelivery.next_attempt_at.is_not(None)
    backlog = {row.endpoint_id: row for row in session.execute(
        select(WebhookDelivery.endpoint_id, func.count().label("backlog"),
               func.count().filter(WebhookDelivery.next_attempt_at <= now).label("due"),
               func.min(WebhookDelivery.created_at).label("oldest"))
        .where(pending).group_by(WebhookDelivery.endpoint_id))}
    last_errors: dict[str, str | None] = dict(session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.last_error)
        .where(pending, WebhookDelivery.last_error.is_not(None))
        .order_by(WebhookDelivery.endpoint_id, WebhookDelivery.last_attempt_at)).tuples().all())
    result = []
    for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.status != ENDPOINT_DELETED)
                             .order_by(WebhookEndpoint.platform_id, WebhookEndpoint.created_at)):
        row = backlog.get(e.id)
        result.append(EndpointStatus(
            id=e.id, platform_id=e.platform_id, host=host_of(e.url), status=e.status,
            backlog=row.backlog if row else 0, due=row.due if row else 0, oldest_pending_at=row.oldest if row else None,
            failing_since=e.failing_since, last_error=last_errors.get(e.id) if e.failing_since else None,
            disabled_at=e.disabled_at, disabled_reason=e.disabled_reason))
    return result
