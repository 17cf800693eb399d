"""A platform's webhook endpoints: created with a secret shown once, listed, deleted.

The secret is kept wrapped under the primary data key (`crypto.envelope.wrap`, with the key
version in clear and AAD naming the endpoint), the way every other secret the service must read
back is kept: the worker needs its bytes to sign. Another platform's endpoint answers exactly as
one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from identity.crypto import envelope
from identity.crypto.keyring import Keyring
from identity.errors import NotFound, ValidationFailed
from identity.ids import looks_like, new_webhook_endpoint_id
from identity.models import WebhookDelivery, WebhookEndpoint
from identity.models.webhook import ENDPOINT_DELETED, ENDPOINT_DISABLED, ENDPOINT_ENABLED
from identity.services import audit
from identity.services.authentication import Principal
from identity.services.webhooks import addresses, signing
from identity.services.webhooks.events import EVENT_TYPES

# Endpoints a platform may have at once (enabled or disabled): each one multiplies every event.
MAX_ENDPOINTS_PER_PLATFORM = 16


def _aad(endpoint_id: str) -> bytes:
    return f"identity/webhook-endpoint/{endpoint_id}/secret".encode()


def wrap_secret(keyring: Keyring, endpoint_id: str, secret: bytes) -> bytes:
    version, key = keyring.primary("data")
    return envelope.wrap(key, version, secret, _aad(endpoint_id))


def open_secret(keyring: Keyring, endpoint_id: str, wrapped: bytes) -> bytes:
    key = keyring.get("data", envelope.wrapped_version(wrapped))
    return envelope.unwrap(key, wrapped, _aad(endpoint_id))


@dataclass(frozen=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str  # `whsec_…`: shown in the creating response only


def host_of(url: str) -> str:
    """What the audit log says of a URL: its host only (a query string may carry a token)."""
    return urlsplit(url).hostname or ""


def create(session: Session, keyring: Keyring, principal: Principal, url: str, events: list[str], *,
           allow_private: bool, now: datetime) -> Created:
    """Add an endpoint subscribed to `events`, after checking its URL against the SSRF rule."""
    try:
        addresses.check(url, allow_private=allow_private)
    except addresses.UrlRefused as refused:
        raise ValidationFailed({"url": [str(refused)]}) from None
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise ValidationFailed({"events": ["Must name at least one event type, from: " + ", ".join(EVENT_TYPES)]})
    existing = session.scalar(select(func.count()).select_from(WebhookEndpoint).where(
        WebhookEndpoint.platform_id == principal.platform_id, WebhookEndpoint.status != ENDPOINT_DELETED)) or 0
    if existing >= MAX_ENDPOINTS_PER_PLATFORM:
        raise ValidationFailed({"url": [f"A platform may have at most {MAX_ENDPOINTS_PER_PLATFORM} endpoints; "
                                        "delete one first."]})
    endpoint_id = new_webhook_endpoint_id()
    secret = signing.new_secret()
    ordered = [t for t in EVENT_TYPES if t in set(events)]
    endpoint = WebhookEndpoint(id=endpoint_id, platform_id=principal.platform_id, url=url, events=" ".join(ordered),
                               secret_wrapped=wrap_secret(keyring, endpoint_id, secret), status=ENDPOINT_ENABLED,
                               created_at=now)
    session.add(endpoint)
    session.flush()
    audit.record(session, keyring, actor=principal.actor, action="webhook_endpoint.created", subject=endpoint_id,
                 details={"platform": principal.platform_id, "host": host_of(url), "events": ordered}, now=now)
    return Created(endpoint=endpoint, secret=signing.shown(secret))


def listed(session: Session, principal: Principal) -> list[WebhookEndpoint]:
    """The platform's endpoints that were not deleted, oldest first, disabled ones included."""
    return list(session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.platform_id == principal.platform_id, WebhookEndpoint.status != ENDPOINT_DELETED)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)))


def reveal_secret(session: Session, keyring: Keyring, principal: Principal, endpoint_id: str) -> str | None:
    """The secret again, for an `Idempotency-Key` replay of the creation that showed it (the
    remembered response never holds it); None once the endpoint is deleted."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.platform_id != principal.platform_id or endpoint.secret_wrapped is None:
        return None
    return signing.shown(open_secret(keyring, endpoint.id, endpoint.secret_wrapped))


def _own(session: Session, platform_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = None
    if looks_like("whe_", endpoint_id):
        endpoint = session.scalar(select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.platform_id == platform_id,
            WebhookEndpoint.status != ENDPOINT_DELETED).with_for_update())
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def abandon_pending(session: Session, endpoint_id: str, now: datetime) -> None:
    """Deliveries still to make to this endpoint end, undelivered (it is deleted or disabled)."""
    session.execute(update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id,
                                                  WebhookDelivery.next_attempt_at.is_not(None))
                    .values(next_attempt_at=None, claim=None, abandoned_at=now))


def delete(session: Session, keyring: Keyring, principal: Principal, endpoint_id: str, now: datetime) -> None:
    """Stop sending to the endpoint: its secret is destroyed and its pending deliveries abandoned.
    The row stays (as `deleted`) so the deliveries' history still names it until they are purged."""
    endpoint = _own(session, principal.platform_id, endpoint_id)
    endpoint.status, endpoint.deleted_at, endpoint.secret_wrapped = ENDPOINT_DELETED, now, None
    session.flush()
    abandon_pending(session, endpoint.id, now)
    audit.record(session, keyring, actor=principal.actor, action="webhook_endpoint.deleted", subject=endpoint.id,
                 details={"platform": principal.platform_id}, now=now)


def disable(session: Session, keyring: Keyring, actor: str, endpoint: WebhookEndpoint, reason: str,
            now: datetime) -> None:
    """The worker gives up on an endpoint that kept failing: it is shown in `webhooks status`."""
    endpoint.status, endpoint.disabled_at, endpoint.disabled_reason = ENDPOINT_DISABLED, now, reason[:200]
    session.flush()
    abandon_pending(session, endpoint.id, now)
    audit.record(session, keyring, actor=actor, action="webhook_endpoint.disabled", subject=endpoint.id,
                 details={"platform": endpoint.platform_id, "reason": reason[:200]}, now=now)


def secret_key_versions(session: Session) -> dict[int, int]:
    """How many endpoint secrets each data key version wraps (`keys status`, and what `keys retire`
    must not destroy)."""
    counts: dict[int, int] = {}
    for wrapped in session.scalars(select(WebhookEndpoint.secret_wrapped)
                                   .where(WebhookEndpoint.secret_wrapped.is_not(None))):
        assert wrapped is not None
        version = envelope.wrapped_version(wrapped)
        counts[version] = counts.get(version, 0) + 1
    return counts


def rewrap_secrets(session: Session, keyring: Keyring) -> int:
    """Move every endpoint secret onto the primary data key (the end of `keys rotate data`): a
    handful of rows per platform, so one pass, under row locks."""
    target, _ = keyring.primary("data")
    moved = 0
    for endpoint in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.secret_wrapped.is_not(None))
                                    .order_by(WebhookEndpoint.id).with_for_update()):
        assert endpoint.secret_wrapped is not None
        if envelope.wrapped_version(endpoint.secret_wrapped) != target:
            secret = open_secret(keyring, endpoint.id, endpoint.secret_wrapped)
            endpoint.secret_wrapped = wrap_secret(keyring, endpoint.id, secret)
            moved += 1
    session.flush()
    return moved
