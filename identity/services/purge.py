"""`identity-admin purge`: delete what the service no longer needs to keep (docs/retention.md).

The purge is a list of steps. Each step removes one batch at a time and records an audit event
in the same transaction as its batch; the caller commits after every batch. A step is done
when a batch finds nothing, so a purge killed at any moment is resumed by running it again,
and two purges running at once only split the work.

A step for a new table belongs in `STEPS` next to the others, in the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from identity.crypto.keyring import Keyring
from identity.models import (
    Account,
    IdempotencyRecord,
    LegalHold,
    Person,
    RevokedToken,
    VerificationSession,
    WebhookDelivery,
)
from identity.models.person import ACCOUNT_ACTIVE, PERSON_ACTIVE, PERSON_ERASED
from identity.services import audit, sanctions, verification_sessions
from identity.services.operators import CLI_OPERATOR

# Verification sessions and delivered webhook events are kept this long after they end.
DELIVERED_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class PurgeContext:
    session: Session
    keyring: Keyring
    now: datetime
    audit_retention: timedelta
    batch: int


@dataclass(frozen=True)
class PurgeStep:
    name: str
    what: str  # for people: what one unit of this step is
    run_batch: Callable[[PurgeContext], int]  # how many it removed; 0 when the step is done


def _expired_rows(ctx: PurgeContext, key: InstrumentedAttribute[Any], expires_at: InstrumentedAttribute[Any],
                  step: str) -> int:
    """One batch of a table's rows whose `expires_at` has passed, oldest keys first."""
    keys = ctx.session.scalars(select(key).where(expires_at <= ctx.now).order_by(key).limit(ctx.batch)).all()
    if not keys:
        return 0
    ctx.session.execute(delete(key.class_).where(key.in_(keys)))
    _audit_batch(ctx, step, len(keys))
    return len(keys)


def _idempotency_records(ctx: PurgeContext) -> int:
    """Remembered responses past their 24 hours: they replay nothing any more."""
    return _expired_rows(ctx, IdempotencyRecord.id, IdempotencyRecord.expires_at, "idempotency_records")


def _revoked_tokens(ctx: PurgeContext) -> int:
    """Revoked token ids whose token has expired anyway (revocations also clear them as they come,
    but a service that stops revoking would keep the last ones for ever)."""
    return _expired_rows(ctx, RevokedToken.jti, RevokedToken.expires_at, "revoked_tokens")


def _ended_verification_sessions(ctx: PurgeContext) -> int:
    """Sessions that ended (or expired) more than DELIVERED_RETENTION ago: their platform has read
    the outcome by then, and the account they opened keeps its own record."""
    ids = verification_sessions.ended_before(ctx.session, ctx.now - DELIVERED_RETENTION, ctx.batch)
    if not ids:
        return 0
    ctx.session.execute(delete(VerificationSession).where(VerificationSession.id.in_(ids)))
    _audit_batch(ctx, "verification_sessions", len(ids))
    return len(ids)


def _ended_webhook_deliveries(ctx: PurgeContext) -> int:
    """Webhook deliveries that ended (delivered, or abandoned after the retry window or with their
    endpoint) and whose event is older than DELIVERED_RETENTION: no delivery lasts past 3 days."""
    ids = ctx.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.created_at <= ctx.now - DELIVERED_RETENTION, WebhookDelivery.next_attempt_at.is_(None))
        .order_by(WebhookDelivery.id).limit(ctx.batch)).all()
    if not ids:
        return 0
    ctx.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    _audit_batch(ctx, "webhook_deliveries", len(ids))
    return len(ids)


def _ended_sanction_traces(ctx: PurgeContext) -> int:
    """What `sanctions purge-expired` does, one batch (it audits itself). Counts people examined,
    so that a batch whose people were all revived meanwhile still moves the step on."""
    done = sanctions.purge_expired_traces(ctx.session, ctx.keyring, ctx.now, batch=ctx.batch)
    return done.examined


def _released_identities(ctx: PurgeContext) -> int:
    """People with no open account whom nothing holds any more: a hold released (or a failure
    between a close and its settling) left their identity behind. The erasure rules decide."""
    open_account = exists().where(Account.person_id == Person.id, Account.status == ACCOUNT_ACTIVE)
    held = exists().where(and_(LegalHold.person_id == Person.id, LegalHold.released_at.is_(None)))
    people = ctx.session.scalars(select(Person).where(Person.state == PERSON_ACTIVE, ~open_account, ~held)
                                 .order_by(Person.id).limit(ctx.batch)).all()
    if not people:
        return 0
    settled = [sanctions.apply_retention(ctx.session, person, ctx.now) for person in people]
    _audit_batch(ctx, "released_identities", len(people),
                 erased=sum(state == PERSON_ERASED for state in settled))
    return len(people)


def _audit_events(ctx: PurgeContext) -> int:
    """Audit events older than the retention: the kept chain starts at the purged part's last
    event, signed, so `audit verify` still checks everything that is left."""
    removed = audit.purge_before(ctx.session, ctx.keyring, ctx.now - ctx.audit_retention, batch=ctx.batch)
    if removed:
        _audit_batch(ctx, "audit_events", removed, retention_days=ctx.audit_retention.days)
    return removed


def _audit_batch(ctx: PurgeContext, step: str, removed: int, **extra: int) -> None:
    audit.record(ctx.session, ctx.keyring, actor=CLI_OPERATOR, action="purge.batch", subject=step,
                 details={"removed": removed, **extra}, now=ctx.now)


STEPS: tuple[PurgeStep, ...] = (
    PurgeStep("idempotency_records", "expired idempotency record(s)", _idempotency_records),
    PurgeStep("revoked_tokens", "expired revoked token id(s)", _revoked_tokens),
    PurgeStep("verification_sessions", "ended verification session(s)", _ended_verification_sessions),
    PurgeStep("webhook_deliveries", "ended webhook delivery(ies)", _ended_webhook_deliveries),
    PurgeStep("sanction_traces", "ended sanction trace(s) examined", _ended_sanction_traces),
    PurgeStep("released_identities", "identity(ies) no longer held", _released_identities),
    # Last, so the events the other steps wrote are part of the kept chain.
    PurgeStep("audit_events", "audit event(s) past retention", _audit_events),
)
