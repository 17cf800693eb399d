"""`Idempotency-Key`: the same key from the same platform with the same request within the
retention window gets the first response again; with a different request, an error.

Only successful (2xx) responses are remembered: a refused request changed nothing, so running
it again is safe and gives the current answer. Records are written in the transaction of
the change they describe, so a remembered response always matches committed state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from identity.errors import IdempotencyKeyReused, ValidationFailed
from identity.models import IdempotencyRecord

HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: str
    location: str | None


def validate_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not all(0x21 <= ord(c) <= 0x7E for c in key):
        raise ValidationFailed({HEADER: ["Must be 1 to 255 visible ASCII characters."]})


def request_fingerprint(method: str, path: str, body: bytes) -> bytes:
    return hashlib.sha256(method.encode() + b"\x00" + path.encode() + b"\x00" + body).digest()


def lookup(session: Session, platform_id: str, key: str, fingerprint: bytes, now: datetime) -> StoredResponse | None:
    record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.platform_id == platform_id,
                                                            IdempotencyRecord.key == key,
                                                            IdempotencyRecord.expires_at > now))
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.")
    return StoredResponse(record.status_code, record.body, record.location)


def remember(session: Session, platform_id: str, key: str, fingerprint: bytes, response: StoredResponse,
             now: datetime, ttl_seconds: int) -> None:
    # Expired records of this platform go with the statement that would have cleared this key's
    # alone: the table stays bounded by one retention window without a job of its own.
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.platform_id == platform_id,
                                                    IdempotencyRecord.expires_at <= now))
    session.add(IdempotencyRecord(platform_id=platform_id, key=key, request_hash=fingerprint,
                                  status_code=response.status_code, body=response.body,
                                  location=response.location, expires_at=now + timedelta(seconds=ttl_seconds)))
    session.flush()

