"""Bounding what registrations that cannot be verified teach a platform (contract: Registration).

A platform that sends a number it knows with names it guesses learns something from every
`identity_not_verified`: the name is not that one, and, where the service verifies offline,
that somebody holds the number. Two sliding-window limits bound it, both counted in the
database so that every process sees the same counts:

- per document and platform: `PER_DOCUMENT` (3 in 24 hours) bounds guessing one person's name
  and locks nobody else out;
- per platform: the policy's `mismatch_limit` (default `IDENTITY_MISMATCH_LIMIT`) bounds
  probing many numbers.

Once a limit is reached, every registration it covers answers 429 `rate_limited` until its
window passes, whatever the name and whether or not anyone holds the number: a 429 that came
only where a mismatch would have come would itself be the answer. Counts are rows keyed by a
keyed reference to the document (an HMAC under an index key, never the number), not audit
events: the audit log's details are an opaque JSON string no index can serve.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.documents import Document
from identity.errors import RateLimited
from identity.models import Platform, RegistrationMismatch
from identity.rates import MAX_WINDOW, Rate, parse_rate
from identity.services import audit, epochs, vault
from identity.services.authentication import Principal
from identity.services.epoch_cache import EpochCache

PER_DOCUMENT = Rate(3, timedelta(hours=24))
# One detail for both limits: which one was reached tells a platform nothing it did not send.
LIMITED = "Too many registrations from this platform could not be verified; retry after the time in Retry-After."

_ROWS = cast(Table, RegistrationMismatch.__table__)
_OF_PLATFORM = _ROWS.c.platform_id == bindparam("platform")
_OF_DOCUMENT = _ROWS.c.document_ref.in_(bindparam("references", expanding=True))
# Both counts, and the platform's latest mismatch, in one round trip; the platform's count stops
# at its limit, so a large platform's history is never counted in full.
_COUNTS = select(
    select(func.count()).select_from(
        select(literal(1)).where(_OF_PLATFORM, _ROWS.c.occurred_at > bindparam("platform_since"))
        .limit(bindparam("platform_limit")).subquery()).scalar_subquery(),
    select(func.count()).where(_OF_PLATFORM, _OF_DOCUMENT, _ROWS.c.occurred_at > bindparam("document_since"))
    .scalar_subquery(),
    select(func.max(_ROWS.c.occurred_at)).where(_OF_PLATFORM).scalar_subquery(),
)
MAX_CLEAR_PLATFORMS = 10_000


class ClearPlatforms(EpochCache[str, Rate]):
    """Per process: the platforms known to have no mismatch in any window that counts, with the
    rate they were found so under, for the current `mismatches` epoch.

    Most platforms have none, and for them the count would cost a query on every registration.
    Counts only fall as time passes; a new mismatch anywhere bumps the epoch (read at the start
    of the request, before any count), which ends every entry in every process. So while the
    epoch is unchanged, a platform found clear is still clear: entries need no deadline.
    """

    def __init__(self) -> None:
        super().__init__(MAX_CLEAR_PLATFORMS)

    def is_clear(self, platform_id: str, epoch: int, rate: Rate) -> bool:
        return self.get(platform_id, epoch) == rate

    def mark(self, platform_id: str, epoch: int, rate: Rate) -> None:
        self.put(platform_id, rate, epoch)


def platform_rate(principal: Principal, default: str) -> Rate:
    """The platform's own `mismatch_limit`, else the service's default (both validated before)."""
    return parse_rate(principal.policy.applied_mismatch_limit(default))


def references(keyring: Keyring, document: Document) -> dict[int, bytes]:
    return vault.mismatch_references(keyring, document)


def ensure_allowed(session: Session, platform_id: str, rate: Rate, refs: dict[int, bytes], now: datetime, *,
                   clear: ClearPlatforms | None = None, epoch: int | None = None) -> None:
    """Raise RateLimited, with the exact wait, while either limit covering this registration is
    reached. With `clear` and the request's `mismatches` epoch, a platform without recent
    mismatches is answered from memory."""
    if clear is not None and epoch is not None and clear.is_clear(platform_id, epoch, rate):
        return
    platform_count, document_count, latest = session.connection().execute(_COUNTS, {
        "platform": platform_id, "references": list(refs.values()), "platform_since": now - rate.window,
        "platform_limit": rate.amount, "document_since": now - PER_DOCUMENT.window}).one()
    if clear is not None and epoch is not None and (
            latest is None or latest <= now - max(rate.window, PER_DOCUMENT.window)):
        clear.mark(platform_id, epoch, rate)
        return
    waits = []
    if platform_count >= rate.amount:
        waits.append(_wait(session, platform_id, None, rate, now))
    if document_count >= PER_DOCUMENT.amount:
        waits.append(_wait(session, platform_id, refs, PER_DOCUMENT, now))
    if waits:
        raise RateLimited(LIMITED, retry_after=max(waits))


def _wait(session: Session, platform_id: str, refs: dict[int, bytes] | None, rate: Rate, now: datetime) -> int:
    """Seconds until the window holds fewer than `rate.amount` mismatches: until the
    `amount`-th newest one leaves it."""
    query = select(_ROWS.c.occurred_at).where(_ROWS.c.platform_id == platform_id,
                                             _ROWS.c.occurred_at > now - rate.window)
    if refs is not None:
        query = query.where(_ROWS.c.document_ref.in_(list(refs.values())))
    leaving = session.scalar(query.order_by(_ROWS.c.occurred_at.desc()).offset(rate.amount - 1).limit(1))
    if leaving is None:  # counted a moment ago; gone since
        return 1
    return max(1, math.ceil((leaving + rate.window - now).total_seconds()))


def record(session: Session, keyring: Keyring, principal: Principal, rate: Rate, refs: dict[int, bytes],
           source: str, now: datetime, *, counted: bool = True) -> None:
    """Count and audit one mismatch about to be answered, or raise RateLimited if a limit was
    reached meanwhile. Under the platform's row lock (SQLite: the write lock), so requests
    racing in several processes cannot together answer more mismatches than the limits allow.
    `counted=False` (a sandbox platform's published identities) audits it only."""
    version, reference = next(iter(refs.items()))
    if not counted:
        _audit(session, keyring, principal, version, reference, source, now)
        return
    session.execute(select(Platform.id).where(Platform.id == principal.platform_id).with_for_update())
    ensure_allowed(session, principal.platform_id, rate, refs, now)
    connection = session.connection()
    connection.execute(insert(_ROWS).values(platform_id=principal.platform_id, document_ref=reference,
                                            occurred_at=now))
    # Rows no window counts any more: this platform's once past its longer window, any
    # platform's once past the longest window a limit may have.
    connection.execute(delete(_ROWS).where(_ROWS.c.platform_id == principal.platform_id,
                                           _ROWS.c.occurred_at <= now - max(rate.window, PER_DOCUMENT.window)))
    connection.execute(delete(_ROWS).where(_ROWS.c.occurred_at <= now - max(MAX_WINDOW, PER_DOCUMENT.window)))
    epochs.bump(session, "mismatches")  # every process counts this platform again
    _audit(session, keyring, principal, version, reference, source, now)


def _audit(session: Session, keyring: Keyring, principal: Principal, version: int, reference: bytes, source: str,
           now: datetime) -> None:
    audit.record(session, keyring, actor=principal.actor, action="registration.not_verified",
                 details={"platform": principal.platform_id, "document_ref": reference.hex(),
                          "index_version": version, "source": source}, now=now)
