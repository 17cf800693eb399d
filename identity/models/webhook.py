"""Webhook endpoints of a platform, and the outbox of deliveries the worker posts to them.

An event is stored as one delivery row per subscribed endpoint (same `event_id`), in the
transaction of the change that causes it: that is what makes delivery at-least-once. The
worker claims due rows by pushing `next_attempt_at` forward by its lease, so a delivery whose
worker died is due again when the lease runs out; `claim` tells the worker's outcome apart
from a later claim's. A delivery that has ended (delivered or abandoned) has no
`next_attempt_at`: the due-rows index holds only the work that is left.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from identity.models.base import Base, UTCDateTime

ENDPOINT_ENABLED = "enabled"
ENDPOINT_DISABLED = "disabled"   # by the worker, after failing for the whole retry window
ENDPOINT_DELETED = "deleted"     # by its platform; kept so its deliveries' history still joins


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    # Every change that may cause an event asks which endpoints of its platform are enabled.
    __table_args__ = (Index("ix_webhook_endpoints_platform_status", "platform_id", "status"),)

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[str] = mapped_column(Text)  # event types, space-separated, in contract order
    # The signing secret, wrapped under the primary data key (crypto.envelope.wrap, AAD names
    # the endpoint): the worker must read it back, so it cannot be hashed like an API key.
    secret_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ENDPOINT_ENABLED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set by the first failed delivery after a success; cleared by the next success.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def event_types(self) -> list[str]:
        return self.events.split()


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_due", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_due", "endpoint_id", "next_attempt_at"),
        Index("ix_webhook_deliveries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(30))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    platform_id: Mapped[str] = mapped_column(String(30))
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes signed and posted (UTF-8 JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claim: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the claiming worker's token
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
