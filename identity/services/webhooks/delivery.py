"""Delivering the outbox: claim due deliveries, post them signed, settle what happened.

At least once, and never twice at the same time:
- `claim` takes due rows (`next_attempt_at <= now`) and pushes `next_attempt_at` forward by a
  lease, with a fresh claim token, in a short transaction of its own. On PostgreSQL the rows
  are taken `FOR UPDATE SKIP LOCKED`, so workers running at once take different rows; on
  SQLite write transactions are serialised anyway, and one worker is what is supported.
- `post` makes the HTTP request with no transaction open: the URL is checked against the SSRF
  rule on a fresh resolution and the connection goes to the checked address.
- `settle` records each outcome in another short transaction, only where the row still carries
  this worker's claim token: a worker that outlived its lease cannot overwrite a later attempt.
  A worker that dies leaves its rows claimed; they are due again once the lease runs out.

A 2xx answer delivers. Anything else, or no answer within 10 s, is retried with exponential
backoff and jitter until the event is 3 days old; an endpoint that has failed for 3 days
without a single success is disabled (and its pending deliveries abandoned).
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import urllib3
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from identity.crypto.envelope import DecryptionFailed
from identity.crypto.keyring import Keyring
from identity.errors import KeyringError
from identity.models import WebhookDelivery, WebhookEndpoint
from identity.models.webhook import ENDPOINT_ENABLED
from identity.services.webhooks import addresses, endpoints, signing

TIMEOUT_SECONDS = 10.0
RETRY_WINDOW = timedelta(days=3)
# Longer than a delivery can take (the time-out, plus settling), so a live worker keeps its rows.
DEFAULT_LEASE = timedelta(seconds=60)
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(hours=6)
WORKER_ACTOR = "system:webhook-worker"
USER_AGENT = "identity-webhooks/1"

_deliveries: Table = WebhookDelivery.__table__  # type: ignore[assignment]


def retry_delay(attempts: int, rng: Callable[[], float] = random.random) -> timedelta:
    """After the `attempts`-th failed attempt: 5 s, 10 s, 20 s … doubling up to 6 h, each drawn
    between half and all of that ("equal jitter"), so endpoints that failed together do not
    come back together."""
    ceiling = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)
    return ceiling * (0.5 + 0.5 * rng())


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    claim: str
    event_id: str
    endpoint_id: str
    url: str
    secret: bytes | None  # None when it could not be opened (a retired data key): the attempt fails
    body: bytes
    created_at: datetime
    attempts: int


def claim(session: Session, keyring: Keyring, now: datetime, *, limit: int,
          lease: timedelta = DEFAULT_LEASE) -> list[Claimed]:
    """Take up to `limit` due deliveries of enabled endpoints for `lease`. Flushes; the caller commits."""
    query = (select(WebhookDelivery.id, WebhookDelivery.event_id, WebhookDelivery.endpoint_id,
                    WebhookDelivery.body, WebhookDelivery.created_at, WebhookDelivery.attempts)
             .where(WebhookDelivery.next_attempt_at <= now)
             .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    if not rows:
        return []
    token = secrets.token_hex(16)
    ids = [row.id for row in rows]
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(
        claim=token, next_attempt_at=now + lease, attempts=WebhookDelivery.attempts + 1, last_attempt_at=now))
    targets = {e.id: e for e in session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.secret_wrapped, WebhookEndpoint.status)
        .where(WebhookEndpoint.id.in_({row.endpoint_id for row in rows})))}
    secrets_by_endpoint: dict[str, bytes | None] = {}
    claimed, gone = [], []
    for row in rows:
        target = targets[row.endpoint_id]
        if target.status != ENDPOINT_ENABLED:
            gone.append(row.id)  # disabled or deleted since the event was stored: it ends here
            continue
        if row.endpoint_id not in secrets_by_endpoint:
            secrets_by_endpoint[row.endpoint_id] = _secret(keyring, target.id, target.secret_wrapped)
        claimed.append(Claimed(delivery_id=row.id, claim=token, event_id=row.event_id,
                               endpoint_id=row.endpoint_id, url=target.url,
                               secret=secrets_by_endpoint[row.endpoint_id], body=row.body.encode("utf-8"),
                               created_at=row.created_at, attempts=row.attempts + 1))
    if gone:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(gone))
                        .values(next_attempt_at=None, claim=None, abandoned_at=now))
    return claimed


def _secret(keyring: Keyring, endpoint_id: str, wrapped: bytes | None) -> bytes | None:
    if wrapped is None:
        return None
    try:
        return endpoints.open_secret(keyring, endpoint_id, wrapped)
    except (DecryptionFailed, KeyringError):
        return None


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    status: int | None   # the HTTP status, None when there was no answer
    error: str | None    # why it failed, in words safe for logs (never the answer's body)

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Transport:
    """urllib3 connection pools per checked address, reused across deliveries (keep-alive).

    The pool connects to the address the SSRF check approved, sends the endpoint's host name in
    `Host`, and verifies TLS against that name (SNI and certificate), not against the address.
    """

    def __init__(self, *, allow_private: bool, timeout: float = TIMEOUT_SECONDS, pool_size: int = 8) -> None:
        self._allow_private = allow_private
        self._timeout = urllib3.Timeout(total=timeout)
        self._pool_size = pool_size
        self._pools: dict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = {}
        self._lock = threading.Lock()

    def _pool(self, target: addresses.Target) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, target.address, target.port, target.host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                options: dict[str, Any] = {"maxsize": self._pool_size, "block": False, "retries": False,
                                           "timeout": self._timeout}
                if target.scheme == "https":
                    pool = urllib3.HTTPSConnectionPool(target.address, target.port, server_hostname=target.host,
                                                       assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
                                                       **options)
                else:
                    pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
                self._pools[key] = pool
            return pool

    def post(self, claimed: Claimed) -> Outcome:
        if claimed.secret is None:
            return Outcome(claimed, None, "the endpoint's secret cannot be opened")
        try:
            target = addresses.check(claimed.url, allow_private=self._allow_private)
        except addresses.UrlRefused as refused:
            return Outcome(claimed, None, f"refused: {refused}")
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Host": target.host_header,
                   # The signing time is the wall clock's: receivers compare it with theirs.
                   **signing.headers(claimed.secret, claimed.event_id, int(time.time()), claimed.body)}
        try:
            response = self._pool(target).urlopen("POST", target.path, body=claimed.body, headers=headers,
                                                  redirect=False, retries=False, preload_content=False,
                                                  assert_same_host=False)
        except urllib3.exceptions.TimeoutError:
            return Outcome(claimed, None, "timed out")
        except urllib3.exceptions.HTTPError as error:
            return Outcome(claimed, None, f"no answer: {type(error).__name__}")
        try:
            response.drain_conn()
        except urllib3.exceptions.HTTPError:
            pass  # the status is what counts; the body is not read
        finally:
            response.release_conn()
        return Outcome(claimed, response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}")

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


@dataclass(frozen=True)
class Settled:
    delivered: int
    retried: int
    abandoned: int
    disabled: list[str]


def settle(session: Session, keyring: Keyring, outcomes: Iterable[Outcome], now: datetime,
           rng: Callable[[], float] = random.random) -> Settled:
    """Record what each post did, where the row still carries its claim. Flushes; the caller commits."""
    delivered, retried, abandoned = [], [], []
    succeeded_endpoints, failed_endpoints = set(), set()
    for outcome in outcomes:
        c = outcome.claimed
        base = {"b_id": c.delivery_id, "b_claim": c.claim, "last_status": outcome.status,
                "last_error": (outcome.error or "")[:200] or None}
        if outcome.delivered:
            delivered.append({**base, "next_attempt_at": None, "delivered_at": now, "abandoned_at": None})
            succeeded_endpoints.add(c.endpoint_id)
            continue
        failed_endpoints.add(c.endpoint_id)
        if now - c.created_at >= RETRY_WINDOW:
            abandoned.append({**base, "next_attempt_at": None, "delivered_at": None, "abandoned_at": now})
        else:
            retried.append({**base, "next_attempt_at": now + retry_delay(c.attempts, rng), "delivered_at": None,
                            "abandoned_at": None})
    statement = (_deliveries.update()
                 .where(_deliveries.c.id == bindparam("b_id"), _deliveries.c.claim == bindparam("b_claim"))
                 .values(claim=None, last_status=bindparam("last_status"), last_error=bindparam("last_error"),
                         next_attempt_at=bindparam("next_attempt_at"), delivered_at=bindparam("delivered_at"),
                         abandoned_at=bindparam("abandoned_at")))
    rows = delivered + retried + abandoned
    if rows:
        session.connection().execute(statement, rows)
    if succeeded_endpoints:
        session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(succeeded_endpoints),
                                                      WebhookEndpoint.failing_since.is_not(None))
                        .values(failing_since=None))
    disabled = _note_failures(session, keyring, failed_endpoints - succeeded_endpoints, now)
    session.flush()
    return Settled(delivered=len(delivered), retried=len(retried), abandoned=len(abandoned), disabled=disabled)


def _note_failures(session: Session, keyring: Keyring, endpoint_ids: set[str], now: datetime) -> list[str]:
    """Start the failing clock of endpoints that failed; disable those failing for the whole window."""
    if not endpoint_ids:
        return []
    session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids),
                                                  WebhookEndpoint.failing_since.is_(None))
                    .values(failing_since=now))
    due = list(session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.id.in_(endpoint_ids), WebhookEndpoint.status == ENDPOINT_ENABLED,
        WebhookEndpoint.failing_since <= now - RETRY_WINDOW).order_by(WebhookEndpoint.id).with_for_update()))
    for endpoint in due:
        assert endpoint.failing_since is not None
        days = RETRY_WINDOW.days
        endpoints.disable(session, keyring, WORKER_ACTOR, endpoint,
                          f"every delivery failed for {days} days (since {endpoint.failing_since:%Y-%m-%dT%H:%M:%SZ})",
                          now)
    return [e.id for e in due]
