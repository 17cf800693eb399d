"""Storing events: one outbox row per subscribed endpoint, in the caller's transaction.

Every use case that causes an event calls `record_event` (or an `EventRecorder`, to ask first
whether anyone listens before working out costlier data) before its transaction commits: the
event then exists exactly when the change does, and the worker delivers it at least once.

A platform with no enabled endpoint pays one indexed query on `webhook_endpoints` (a handful
of rows per platform) and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from identity.ids import new_event_id
from identity.models import WebhookDelivery, WebhookEndpoint
from identity.models.webhook import ENDPOINT_ENABLED
from identity.services.webhooks.events import event_body


class EventRecorder:
    """The events of one platform in one transaction; reads its subscriptions once, when first asked."""

    def __init__(self, session: Session, platform_id: str, now: datetime) -> None:
        self._session = session
        self._platform_id = platform_id
        self._now = now
        self._subscriptions: list[tuple[str, frozenset[str]]] | None = None

    def _endpoints_for(self, event_type: str) -> list[str]:
        if self._subscriptions is None:
            rows = self._session.execute(select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.platform_id == self._platform_id, WebhookEndpoint.status == ENDPOINT_ENABLED))
            self._subscriptions = [(endpoint_id, frozenset(events.split())) for endpoint_id, events in rows]
        return [endpoint_id for endpoint_id, types in self._subscriptions if event_type in types]

    def wants(self, event_type: str) -> bool:
        return bool(self._endpoints_for(event_type))

    def record(self, event_type: str, data: dict[str, Any]) -> str | None:
        """Store the event for every enabled endpoint subscribed to its type; its id, or None when
        nobody listens (nothing is written then)."""
        endpoints = self._endpoints_for(event_type)
        if not endpoints:
            return None
        event_id = new_event_id()
        body = event_body(event_id, event_type, data, self._now)
        self._session.execute(insert(WebhookDelivery), [
            {"event_id": event_id, "endpoint_id": endpoint_id, "platform_id": self._platform_id,
             "event_type": event_type, "body": body, "created_at": self._now, "attempts": 0,
             "next_attempt_at": self._now} for endpoint_id in endpoints])
        return event_id


def record_event(session: Session, platform_id: str, event_type: str, data: dict[str, Any],
                 now: datetime) -> str | None:
    """Store one event for the platform's subscribed endpoints, in the session's transaction.

    `data` holds only ids, this platform's pseudonyms, codes and times (datetimes are written
    as RFC 3339). Returns the event id (`evt_…`), or None when no enabled endpoint of the
    platform subscribes to `event_type`.
    """
    return EventRecorder(session, platform_id, now).record(event_type, data)
