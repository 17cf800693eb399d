"""Reading and closing accounts, and answering a person's access request.

A platform only ever reaches its own accounts: every lookup is by (platform, pseudonym), and
another platform's pseudonym is answered exactly as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity import documents
from identity.crypto.keyring import Keyring
from identity.errors import IdentityErased
from identity.models import Account, Person, Sanction
from identity.models.person import ACCOUNT_CLOSED, PERSON_ACTIVE, PERSON_ERASED
from identity.services import audit, cross_border, epochs, ownership, sanctions, vault
from identity.services.authentication import Principal
from identity.services.credit import FULL_CREDIT, Credit, credit_of
from identity.services.epoch_cache import next_utc_midnight
from identity.services.webhooks import outbox

RETENTION_RULE = (
    "Held while the person has an open account on any platform, or while a sanction or a credit penalty "
    "applies to them. When the last account is closed and nothing holds the data (a sanction, a credit "
    "penalty, or a legal hold placed for an investigation), it is erased by destroying the person's data "
    "key. While a sanction or a credit penalty still applies to a person with no open account, only the "
    "document's blind index and the encrypted document number are kept, for as long as it lasts."
)


# Belt and braces: cached state about an account (its view, its token state) is re-read at least
# this often, even with no epoch bump.
MAX_CACHED_STATE_AGE = timedelta(seconds=300)


def cached_state_valid_until(now: datetime, *, adult: bool, restrictions: Iterable[Sanction],
                             credit_changes_at: datetime | None) -> datetime:
    """The first moment cached state about an account could change without anyone writing (and
    bumping the `access` epoch): a restriction's end, a credit penalty's, or the next UTC midnight
    for a minor, who may come of age; at the latest `MAX_CACHED_STATE_AGE` from now."""
    until = now + MAX_CACHED_STATE_AGE
    if credit_changes_at is not None:
        until = min(until, credit_changes_at)
    for sanction in restrictions:
        if sanction.expires_at is not None:
            until = min(until, sanction.expires_at)
    if not adult:
        until = min(until, next_utc_midnight(now))
    return until


@dataclass(frozen=True)
class AccountView:
    account: Account
    status: str
    adult: bool
    restrictions: list[Sanction]
    credit: Credit = FULL_CREDIT

    def valid_until(self, now: datetime) -> datetime:
        return cached_state_valid_until(now, adult=self.adult, restrictions=self.restrictions,
                                        credit_changes_at=self.credit.changes_at)


def get_account(session: Session, platform_id: str, pseudonym: str) -> Account:
    return ownership.require_platform_account(session, platform_id, pseudonym)


def is_adult(keyring: Keyring, person: Person, today: Any) -> bool:
    """`adult` is stored once true; a minor's birth date is read (decrypted) to see if they came of age."""
    if person.adult:
        return True
    if person.state != PERSON_ACTIVE:
        return False
    birth = vault.open_birth_date(keyring, person)
    return birth is not None and documents.age_on(birth, today) >= 18


def view(session: Session, keyring: Keyring, account: Account, now: datetime) -> AccountView:
    person = account.person
    restrictions = sanctions.active_on_platform(session, person.id, account.platform_id, now)
    if account.status == ACCOUNT_CLOSED:
        status = "closed"
    else:
        status = "restricted" if restrictions else "active"
    return AccountView(account=account, status=status, adult=is_adult(keyring, person, now.date()),
                       restrictions=restrictions,
                       credit=credit_of(session, person.id, account.platform_id, now))


def list_by_external_ref(session: Session, platform_id: str, external_ref: str) -> list[Account]:
    return list(session.scalars(select(Account).where(Account.platform_id == platform_id,
                                                      Account.external_ref == external_ref)
                                .order_by(Account.created_at, Account.id)))


def close(session: Session, keyring: Keyring, principal: Principal, pseudonym: str, now: datetime) -> Account:
    """Close the account; erase the person when nothing else holds their data."""
    account = get_account(session, principal.platform_id, pseudonym)
    if account.status == ACCOUNT_CLOSED:
        return account  # closing twice is not an error: DELETE is idempotent
    account.status, account.slot, account.closed_at = ACCOUNT_CLOSED, None, now
    session.flush()
    epochs.bump(session, "access")  # tokens of this account stop introspecting as active at once
    state = sanctions.apply_retention(session, account.person, now)
    outbox.record_event(session, principal.platform_id, "account.closed",
                        {"pseudonym": account.pseudonym, "closed_at": now}, now)
    audit.record(session, keyring, actor=principal.actor, action="account.closed", subject=account.pseudonym,
                 details={"platform": principal.platform_id, "identity_erased": state == PERSON_ERASED,
                          "person_state": state}, now=now)
    return account


def personal_data(session: Session, keyring: Keyring, principal: Principal, pseudonym: str,
                  now: datetime) -> dict[str, Any]:
    """What the service holds about the person, masked as the contract says; every read is audited."""
    account = get_account(session, principal.platform_id, pseudonym)
    cross_border.require_transfer_allowed(session, principal.platform_id, principal.policy, now)
    person = account.person
    # A closed account answers 410 even while a legal hold keeps the person's data.
    if person.state != PERSON_ACTIVE or account.status == ACCOUNT_CLOSED:
        raise IdentityErased("The identity data behind this account has been erased.")
    identity = vault.open_identity(keyring, person)
    audit.record(session, keyring, actor=principal.actor, action="personal_data.read", subject=pseudonym,
                 details={"platform": principal.platform_id}, now=now)
    document: dict[str, Any] = {"type": identity.document.type,
                                "number": documents.mask(identity.document.number)}
    if identity.document.issuing_country:
        document["issuing_country"] = identity.document.issuing_country
    return {
        "real_name": identity.real_name,
        "id_document": document,
        "phone": documents.mask(identity.phone) if identity.phone else None,
        "consent": {"notice_version": account.consent_notice_version,
                    "accepted_at": account.consent_accepted_at,
                    "guardian_consent": account.guardian_consent},
        "verification": {"level": account.verification_level, "method": account.verification_method,
                         "verified_at": account.verified_at},
        "created_at": person.created_at,
        "retention": RETENTION_RULE,
    }
