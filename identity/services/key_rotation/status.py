"""What each key version is used by, and destroying one for good once nothing needs it (or now, if leaked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from identity.clock import utc_now
from identity.engine_behaviour import scrub_after_commit
from identity.errors import OperatorError
from identity.models import AuditEvent, KeyVersion
from identity.models.keyring import KEY_KINDS, KEY_PRIMARY, KEY_RETIRED
from identity.services import audit, epochs
from identity.services.key_rotation.common import KINDS, keyring_now
from identity.services.key_rotation.signing_and_root import SIGNING_WINDOW
from identity.services.keyring import KeyringCache
from identity.services.signing import kid_of
from identity.services.webhooks import endpoints as webhook_endpoints


def jwks_window_end(session: Session, version: int) -> datetime | None:
    """When signing key `version` stops verifying live tokens: the next key's start + the longest
    TTL + the leeway, the moment the JWKS stops publishing it.

    None while it is still primary (its window has not even begun to close).
    """
    successor = session.scalars(select(KeyVersion).where(KeyVersion.kind == "signing", KeyVersion.version > version)
                                .order_by(KeyVersion.version)).first()
    if successor is None:
        return None
    return successor.created_at + SIGNING_WINDOW


@dataclass(frozen=True)
class KeyStatus:
    kind: str
    version: int
    state: str
    records: int
    created_at: datetime
    retired_at: datetime | None
    verifies_until: datetime | None = None   # signing keys past primary: end of their JWKS window

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "version": self.version, "state": self.state, "records": self.records}


def _usage(session: Session, kind: str) -> dict[int, int]:
    """How many records use each version of `kind`. Signing keys: tokens are not stored, so 0."""
    if kind in KINDS:
        column = KINDS[kind].version_col()
        rows = session.execute(select(column, func.count()).where(column.is_not(None)).group_by(column))
        if kind == "data":  # persons' keys, and webhook endpoint secrets
            usage = {int(version): int(count) for version, count in rows}
            for version, count in webhook_endpoints.secret_key_versions(session).items():
                usage[version] = usage.get(version, 0) + count
            return usage
    elif kind == "audit":
        rows = session.execute(select(AuditEvent.key_version, func.count()).group_by(AuditEvent.key_version))
    else:
        return {}
    return {int(version): int(count) for version, count in rows}


def key_status(session: Session) -> list[KeyStatus]:
    keys = session.scalars(select(KeyVersion).order_by(KeyVersion.kind, KeyVersion.version)).all()
    usage = {kind: _usage(session, kind) for kind in KEY_KINDS}
    order = {kind: i for i, kind in enumerate(KEY_KINDS)}
    result = []
    for key in sorted(keys, key=lambda k: (order.get(k.kind, 99), k.version)):
        until = jwks_window_end(session, key.version) if key.kind == "signing" else None
        result.append(KeyStatus(key.kind, key.version, key.state, usage.get(key.kind, {}).get(key.version, 0),
                                key.created_at, key.retired_at, until))
    return result


def retire_key(session: Session, cache: KeyringCache, kind: str, version: int, *, actor: str,
               now: datetime | None = None) -> tuple[KeyVersion, bool]:
    """Destroy a key version's material for good, once nothing can need it. Returns (row, newly retired).

    Refuses the primary; a data or index key while any person row uses it; an audit key while
    any audit event was chained with it (`audit verify` needs it); a signing key while tokens it
    signed may still be live (until the next key's start plus the longest token lifetime).
    """
    now = now or utc_now()
    if kind not in KEY_KINDS:
        raise OperatorError(f"unknown key kind {kind}; one of {', '.join(KEY_KINDS)}")
    key = session.scalars(select(KeyVersion).where(KeyVersion.kind == kind, KeyVersion.version == version)
                          .with_for_update()).first()
    if key is None:
        raise OperatorError(f"there is no {kind} key version {version}")
    if key.state == KEY_RETIRED:
        audit.record(session, keyring_now(cache, session), actor=actor, action="keys.retired",
                     details={"kind": kind, "version": version, "already_retired": True}, now=now)
        return key, False
    if key.state == KEY_PRIMARY:
        raise OperatorError(f"{kind} key v{version} is the primary key; rotate {kind} first")
    in_use = _usage(session, kind).get(version, 0)
    if in_use:
        what = "audit events" if kind == "audit" else "persons"
        hint = ("audit keys stay while the events they chained are kept" if kind == "audit"
                else f"finish `identity-admin keys rotate {kind}` first")
        raise OperatorError(f"{in_use} {what} still use {kind} key v{version}; {hint}")
    if kind == "signing":
        until = jwks_window_end(session, version)
        if until is not None and now < until:
            raise OperatorError(f"signing key v{version} may still verify unexpired tokens until "
                                f"{until.strftime('%Y-%m-%dT%H:%M:%SZ')}; retire it after that")
    ring = keyring_now(cache, session)  # loaded before the key disappears, to record the event
    key.material_ct, key.state, key.retired_at = None, KEY_RETIRED, now
    session.flush()
    scrub_after_commit(session)  # no old copy of the material may stay in the database's files
    epochs.bump(session, "keys")
    audit.record(session, ring, actor=actor, action="keys.retired", details={"kind": kind, "version": version}, now=now)
    return key, True


@dataclass(frozen=True)
class SigningRevocation:
    version: int
    kid: str | None          # None when the key was already retired (its material is gone)
    revoked_at: datetime
    newly: bool


def _signing_key_to_revoke(session: Session, version: int) -> KeyVersion:
    key = session.scalars(select(KeyVersion).where(KeyVersion.kind == "signing", KeyVersion.version == version)
                          .with_for_update()).first()
    if key is None:
        raise OperatorError(f"there is no signing key version {version}")
    if key.state == KEY_PRIMARY:
        # Revoking it would leave nothing to sign with; a new primary must exist first.
        raise OperatorError(f"signing key v{version} is the primary key; run `identity-admin keys rotate signing` "
                            f"first, then revoke v{version}")
    return key


def check_signing_revocation(session: Session, version: int) -> None:
    """Raise the reason `revoke_signing_key` would refuse, before an operator is asked to confirm."""
    _signing_key_to_revoke(session, version)


def revoke_signing_key(session: Session, cache: KeyringCache, version: int, *, actor: str,
                       now: datetime | None = None) -> SigningRevocation:
    """For a leaked signing key: destroy it now, inside its JWKS window.

    Its material is deleted and its row retired, and the `keys` epoch moves, so every process
    drops it on its next request: it leaves the JWKS, and every token it signed (a thief's
    included) becomes inactive at introspection, since no published key verifies it. Unlike
    `retire_key`, this does not wait for those tokens to expire: that is the point.
    """
    now = now or utc_now()
    key = _signing_key_to_revoke(session, version)
    ring = keyring_now(cache, session)  # loaded before the key disappears, to name it and record the event
    if key.state == KEY_RETIRED:
        audit.record(session, ring, actor=actor, action="keys.revoked",
                     details={"kind": "signing", "version": version, "compromised": True, "already_retired": True},
                     now=now)
        return SigningRevocation(version, None, key.retired_at or now, False)
    kid = kid_of(ring.get("signing", version))
    key.material_ct, key.state, key.retired_at = None, KEY_RETIRED, now
    session.flush()
    epochs.bump(session, "keys")
    audit.record(session, ring, actor=actor, action="keys.revoked",
                 details={"kind": "signing", "version": version, "kid": kid, "compromised": True}, now=now)
    return SigningRevocation(version, kid, now, True)
