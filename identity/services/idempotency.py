"""`Idempotency-Key`: the same key from the same platform with the same request within the
retention window gets the first response again; with a different request, an error.

Only successful (2xx) responses are remembered: a refused request changed nothing, so running
it again is safe and gives the current answer. Records are written in the transaction of
the change they describe, so a remembered response always matches committed state.

The request is remembered by a keyed fingerprint (HMAC-SHA256), never a plain hash: a
registration body is a name, an ID number and a phone number, and ID numbers are few enough
that a plain SHA-256 of them is reversed by trying them all. The key is the blind-index key,
under a label of its own: its job is already keyed equality over personal data, `keys rotate
index` rotates it, and the label keeps a fingerprint from ever equalling a document index.
(Not a data key: an encryption key should not double as a MAC key. Not the audit key: it
cannot be retired while the events it chained are kept.)
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from identity.crypto.blind_index import request_index
from identity.crypto.keyring import Keyring
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


@dataclass(frozen=True)
class RequestFingerprint:
    """One request's fingerprint under the primary index key, and how to recognise a record
    remembered under an older one."""

    keyring: Keyring
    material: bytes
    value: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", request_index(self.keyring.primary("index")[1], self.material))

    def matches(self, stored: bytes) -> bool:
        if hmac.compare_digest(stored, self.value):
            return True
        # Remembered before an index rotation: still the same request under the key of its day.
        if any(hmac.compare_digest(stored, request_index(key, self.material))
               for key in self.keyring.versions("index").values()):
            return True
        # Remembered by a version that hashed without a key (records live one retention window,
        # so this branch can go one release after migration 0005).
        return hmac.compare_digest(stored, hashlib.sha256(self.material).digest())


def request_fingerprint(keyring: Keyring, method: str, path: str, body: bytes) -> RequestFingerprint:
    return RequestFingerprint(keyring, method.encode() + b"\x00" + path.encode() + b"\x00" + body)


def lookup(session: Session, platform_id: str, key: str, fingerprint: RequestFingerprint,
           now: datetime) -> StoredResponse | None:
    record = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.platform_id == platform_id,
                                                            IdempotencyRecord.key == key,
                                                            IdempotencyRecord.expires_at > now))
    if record is None:
        return None
    if not fingerprint.matches(record.request_hash):
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.")
    return StoredResponse(record.status_code, record.body, record.location)


def remember(session: Session, platform_id: str, key: str, fingerprint: RequestFingerprint, response: StoredResponse,
             now: datetime, ttl_seconds: int) -> None:
    # Expired records of this platform go with the statement that would have cleared this key's
    # alone: the table stays bounded by one retention window without a job of its own.
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.platform_id == platform_id,
                                                    IdempotencyRecord.expires_at <= now))
    session.add(IdempotencyRecord(platform_id=platform_id, key=key, request_hash=fingerprint.value,
                                  status_code=response.status_code, body=response.body,
                                  location=response.location, expires_at=now + timedelta(seconds=ttl_seconds)))
    session.flush()

