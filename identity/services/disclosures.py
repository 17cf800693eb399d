"""Lawful disclosure: who is behind a pseudonym, told to an authority, by two operators.

One operator records an authority's request; a second one approves it (never the requester);
within 72 hours of the approval any operator may reveal it, once. The identity leaves only as
a libsodium sealed box (`crypto_box_seal`) to the authority's X25519 public key: the service
keeps no copy, and nothing of it is printed, logged or audited in clear. Every step is an
audit event naming the operator.

A person whose identity has been erased (or reduced to a sanction trace, which keeps no name)
cannot be revealed: the reveal says so and prints nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox
from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.clock import rfc3339
from identity.crypto.keyring import Keyring
from identity.errors import OperatorError
from identity.ids import looks_like, new_disclosure_id
from identity.models import Account, DisclosureRequest, Person
from identity.models.lawful import (
    APPROVAL_LIFETIME,
    DISCLOSURE_APPROVED,
    DISCLOSURE_DENIED,
    DISCLOSURE_PENDING,
    DISCLOSURE_REVEALED,
)
from identity.models.person import PERSON_ACTIVE
from identity.services import audit, ownership, vault
from identity.services.operators import actor_of, check_text


@dataclass(frozen=True)
class DisclosureView:
    request: DisclosureRequest
    pseudonym: str
    status: str

    def as_json(self) -> dict[str, object]:
        r = self.request
        expires = r.approved_at + APPROVAL_LIFETIME if r.approved_at is not None else None
        return {"id": r.id, "status": self.status, "platform": r.platform_id, "pseudonym": self.pseudonym,
                "authority": r.authority, "case_ref": r.case_ref, "legal_basis": r.legal_basis,
                "requested_by": r.requested_by, "requested_at": rfc3339(r.requested_at),
                "approved_by": r.approved_by, "approved_at": rfc3339(r.approved_at),
                "approval_expires_at": rfc3339(expires) if self.status == DISCLOSURE_APPROVED else None,
                "denied_by": r.denied_by, "denied_at": rfc3339(r.denied_at),
                "revealed_by": r.revealed_by, "revealed_at": rfc3339(r.revealed_at)}


def _view(session: Session, request: DisclosureRequest, now: datetime) -> DisclosureView:
    pseudonym = session.scalar(select(Account.pseudonym).where(Account.id == request.account_id))
    assert pseudonym is not None
    return DisclosureView(request=request, pseudonym=pseudonym, status=request.status_at(now))


def _locked(session: Session, disclosure_id: str) -> DisclosureRequest:
    """Read the request under a row lock: approve, deny and reveal decide from its status, and two
    operators racing must not both act on the same one (two reveals, an approval after a denial)."""
    found = None
    if looks_like("dsc_", disclosure_id):
        found = session.scalar(select(DisclosureRequest).where(DisclosureRequest.id == disclosure_id)
                               .with_for_update().execution_options(populate_existing=True))
    if found is None:
        raise OperatorError(f"no disclosure request {disclosure_id}")
    return found


def request(session: Session, keyring: Keyring, operator: str, *, platform_id: str, pseudonym: str,
            authority: str, case_ref: str, legal_basis: str, now: datetime) -> DisclosureView:
    """Record an authority's request; nothing is revealed until a second operator approves it."""
    authority = check_text("--authority", authority)
    case_ref = check_text("--case-ref", case_ref)
    legal_basis = check_text("--legal-basis", legal_basis)
    account = ownership.require_platform_account(session, platform_id, pseudonym)
    row = DisclosureRequest(id=new_disclosure_id(), platform_id=platform_id, account_id=account.id,
                            authority=authority, case_ref=case_ref, legal_basis=legal_basis,
                            status=DISCLOSURE_PENDING, requested_by=operator, requested_at=now)
    session.add(row)
    session.flush()
    audit.record(session, keyring, actor=actor_of(operator), action="disclosure.requested", subject=row.id,
                 details={"platform": platform_id, "pseudonym": pseudonym}, now=now)
    return DisclosureView(request=row, pseudonym=account.pseudonym, status=row.status)


def approve(session: Session, keyring: Keyring, operator: str, disclosure_id: str, now: datetime) -> DisclosureView:
    row = _locked(session, disclosure_id)
    status = row.status_at(now)
    if status != DISCLOSURE_PENDING:
        raise OperatorError(f"disclosure request {row.id} is {status}; only a pending request can be approved")
    if operator.casefold() == row.requested_by.casefold():
        raise OperatorError(f"{operator} requested {row.id}; a second operator must approve it")
    row.status, row.approved_by, row.approved_at = DISCLOSURE_APPROVED, operator, now
    session.flush()
    audit.record(session, keyring, actor=actor_of(operator), action="disclosure.approved", subject=row.id,
                 details={"platform": row.platform_id, "requested_by": row.requested_by}, now=now)
    return _view(session, row, now)


def deny(session: Session, keyring: Keyring, operator: str, disclosure_id: str, reason: str,
         now: datetime) -> DisclosureView:
    """End a pending or approved request without revealing anything (the requester may withdraw it)."""
    reason = check_text("--reason", reason, limit=500)
    row = _locked(session, disclosure_id)
    status = row.status_at(now)
    if status not in (DISCLOSURE_PENDING, DISCLOSURE_APPROVED):
        raise OperatorError(f"disclosure request {row.id} is {status}; it can no longer be denied")
    row.status, row.denied_by, row.denied_at, row.deny_reason = DISCLOSURE_DENIED, operator, now, reason
    session.flush()
    # The reason is free text; it stays in the request, out of the log.
    audit.record(session, keyring, actor=actor_of(operator), action="disclosure.denied", subject=row.id,
                 details={"platform": row.platform_id, "was": status}, now=now)
    return _view(session, row, now)


def parse_recipient_key(raw: str) -> PublicKey:
    """The authority's X25519 public key: 32 bytes, base64 (standard or URL-safe)."""
    text = raw.strip().replace("-", "+").replace("_", "/")
    try:
        material = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise OperatorError("the recipient key file must hold a base64 X25519 public key") from None
    if len(material) != 32:
        raise OperatorError("the recipient key must be a 32-byte X25519 public key")
    try:
        return PublicKey(material)
    except CryptoError:
        raise OperatorError("the recipient key is not a usable X25519 public key") from None


class NothingToReveal(OperatorError):
    """The identity behind the pseudonym has been erased: the refusal itself is audited."""

    code = "identity_erased"


@dataclass(frozen=True)
class Revealed:
    view: DisclosureView
    sealed_box: str  # base64 of crypto_box_seal(identity JSON)


def reveal(session: Session, keyring: Keyring, operator: str, disclosure_id: str, recipient: PublicKey,
           now: datetime) -> Revealed:
    """Seal the identity to the authority's key, once, within the approval's lifetime.

    Raises `NothingToReveal` after recording the refusal (the caller commits it) when the
    identity was erased; nothing else changes then.
    """
    row = _locked(session, disclosure_id)
    status = row.status_at(now)
    if status != DISCLOSURE_APPROVED:
        raise OperatorError(f"disclosure request {row.id} is {status}; only an approved request can be revealed")
    account = session.get(Account, row.account_id)
    assert account is not None
    person = session.get(Person, account.person_id)
    assert person is not None
    session.refresh(person, with_for_update=True)  # an erasure racing the reveal waits, or wins outright
    fingerprint = hashlib.sha256(bytes(recipient)).hexdigest()[:16]
    if person.state != PERSON_ACTIVE:
        audit.record(session, keyring, actor=actor_of(operator), action="disclosure.reveal_refused",
                     subject=row.id, details={"platform": row.platform_id, "reason": "identity_erased"}, now=now)
        raise NothingToReveal(f"the identity behind disclosure request {row.id} has been erased; nothing was "
                              "revealed")
    identity = vault.open_identity(keyring, person)
    plaintext = json.dumps({"real_name": identity.real_name,
                            "id_document": {"type": identity.document.type, "number": identity.document.number,
                                            "issuing_country": identity.document.issuing_country},
                            "phone": identity.phone}, ensure_ascii=False, separators=(",", ":")).encode()
    sealed = base64.b64encode(SealedBox(recipient).encrypt(plaintext)).decode("ascii")
    row.status, row.revealed_by, row.revealed_at = DISCLOSURE_REVEALED, operator, now
    session.flush()
    audit.record(session, keyring, actor=actor_of(operator), action="disclosure.revealed", subject=row.id,
                 details={"platform": row.platform_id, "recipient_key": fingerprint}, now=now)
    return Revealed(view=_view(session, row, now), sealed_box=sealed)


def list_requests(session: Session, now: datetime, status: str | None = None) -> list[DisclosureView]:
    rows = session.execute(select(DisclosureRequest, Account.pseudonym)
                           .join(Account, Account.id == DisclosureRequest.account_id)
                           .order_by(DisclosureRequest.requested_at, DisclosureRequest.id)).all()
    views = [DisclosureView(request=r, pseudonym=p, status=r.status_at(now)) for r, p in rows]
    return [v for v in views if status is None or v.status == status]
