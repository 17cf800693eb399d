"""The delivery worker's loop: sweep expiries, claim, post (in parallel, no transaction open),
settle; sleep when there is nothing due. `identity-admin webhooks deliver` runs it.

Each step is its own short unit of work. A stop request (SIGTERM) is honoured between
batches: the batch in flight is posted and settled first, so nothing is left claimed by a
process that exits cleanly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from identity.availability import DATABASE_UNAVAILABLE
from identity.crypto.keyring import Keyring
from identity.services.maintenance_lock import UnitOfWork
from identity.services.webhooks import announcements, delivery

log = logging.getLogger("identity.webhooks")
DATABASE_RETRY_SECONDS = 5.0


@dataclass
class Totals:
    delivered: int = 0
    retried: int = 0
    abandoned: int = 0
    expiries_announced: int = 0
    disabled: list[str] = field(default_factory=list)


@dataclass
class Worker:
    uow: UnitOfWork
    keyring: Callable[[], Keyring]
    transport: delivery.Transport
    clock: Callable[[], datetime]
    batch: int = 100
    concurrency: int = 8
    lease: timedelta = delivery.DEFAULT_LEASE
    idle_seconds: float = 1.0
    stop: threading.Event = field(default_factory=threading.Event)
    totals: Totals = field(default_factory=Totals)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="webhook-post")

    def sweep(self) -> int:
        with self.uow() as session:
            swept = announcements.sweep_expired(session, self.clock(), batch=self.batch)
        self.totals.expiries_announced += swept
        return swept

    def deliver_batch(self) -> int:
        """Claim, post and settle one batch; how many deliveries it took."""
        with self.uow() as session:
            claimed = delivery.claim(session, self.keyring(), self.clock(), limit=self.batch, lease=self.lease)
        if not claimed:
            return 0
        outcomes = list(self._pool.map(self.transport.post, claimed))
        with self.uow() as session:
            settled = delivery.settle(session, self.keyring(), outcomes, self.clock())
        self.totals.delivered += settled.delivered
        self.totals.retried += settled.retried
        self.totals.abandoned += settled.abandoned
        self.totals.disabled += settled.disabled
        for outcome in outcomes:
            if not outcome.delivered:
                # Ids and the failure's kind only: an answer's body is never read or logged.
                log.info("webhook delivery failed", extra={"event_id": outcome.claimed.event_id,
                                                           "endpoint_id": outcome.claimed.endpoint_id,
                                                           "error": outcome.error})
        for endpoint_id in settled.disabled:
            log.warning("webhook endpoint disabled after failing for the whole retry window",
                        extra={"endpoint_id": endpoint_id})
        return len(claimed)

    def drain(self) -> Totals:
        """Everything due now, then return (`--once`)."""
        while not self.stop.is_set() and self.sweep():
            pass
        while not self.stop.is_set() and self.deliver_batch():
            pass
        return self.totals

    def run(self) -> Totals:
        """Until `stop` is set: sleep only when a round found nothing to do."""
        while not self.stop.is_set():
            try:
                busy = self.sweep() + self.deliver_batch()
            except DATABASE_UNAVAILABLE as error:
                # Claimed rows come back after their lease; nothing is lost by waiting.
                log.warning("database unavailable, waiting", extra={"error": type(error).__name__})
                self.stop.wait(max(self.idle_seconds, DATABASE_RETRY_SECONDS))
                continue
            if not busy:
                self.stop.wait(self.idle_seconds)
        return self.totals

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.transport.close()
