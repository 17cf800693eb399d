"""Registering a person on a platform under a verified real name.

The flow is split so that a remote verification authority is never called while a database
transaction is open: `prepare` (pure rules) -> `precheck` (read-only: refusals and
duplicates, cheap to answer before asking the authority) -> the verifier -> `register`
(the writes, which repeat the checks under the unique constraints that decide races).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from identity import documents
from identity.crypto.keyring import Keyring
from identity.errors import (
    AgeRequirementNotMet,
    Conflict,
    DuplicateIdentity,
    GuardianConsentRequired,
    IdentityNotVerified,
    RegistrationRefused,
    ValidationFailed,
)
from identity.ids import new_pseudonym
from identity.models import Account, Person
from identity.models.person import ACCOUNT_ACTIVE, PERSON_ACTIVE, PERSON_ERASED, PERSON_TRACE
from identity.services import audit, sanctions, vault
from identity.services.authentication import Principal
from identity.verifiers import Verification

GUARDIAN_CONSENT_AGE = 14  # PIPL art. 31
ADULT_AGE = 18
_ATTEMPTS = 5


@dataclass(frozen=True)
class RegistrationRequest:
    real_name: str
    id_type: str
    id_number: str
    issuing_country: str | None
    phone: str | None
    external_ref: str | None
    notice_version: str
    accepted_at: datetime
    guardian_consent: bool | None


@dataclass(frozen=True)
class PreparedRegistration:
    identity: vault.Identity
    external_ref: str | None
    notice_version: str
    accepted_at: datetime
    guardian_consent: bool
    adult: bool


def prepare(request: RegistrationRequest, principal: Principal, now: datetime) -> PreparedRegistration:
    """Apply the contract's field rules and the platform's policy; nothing is looked up or stored."""
    today = now.date()
    errors: dict[str, list[str]] = {}
    name = document = phone = None
    try:
        name = documents.normalise_name(request.real_name)
    except documents.DocumentError as exc:
        errors.update(exc.errors)
    try:
        document = documents.normalise_document(request.id_type, request.id_number, request.issuing_country,
                                                today=today)
    except documents.DocumentError as exc:
        errors.update(exc.errors)
    policy = principal.policy
    if request.phone is not None and policy.phone == "forbidden":
        errors["phone"] = ["This platform's policy does not allow it to collect phone numbers."]
    elif request.phone is None and policy.phone == "required":
        errors["phone"] = ["This platform's policy requires a phone number."]
    elif request.phone is not None:
        try:
            phone = documents.normalise_phone(request.phone)
        except documents.DocumentError as exc:
            errors.update(exc.errors)
    if request.accepted_at > now:
        errors["consent.accepted_at"] = ["Must not be in the future."]
    if errors:
        raise ValidationFailed(errors)
    assert name is not None and document is not None
    age = documents.age_on(document.birth_date, today) if document.birth_date else None
    if policy.min_age is not None:
        if age is None:
            raise AgeRequirementNotMet(
                f"This platform requires a minimum age of {policy.min_age}, and this document type does not "
                "show a birth date.")
        if age < policy.min_age:
            raise AgeRequirementNotMet(f"This platform requires a minimum age of {policy.min_age}.")
    if age is not None and age < GUARDIAN_CONSENT_AGE and request.guardian_consent is not True:
        raise GuardianConsentRequired(
            f"The person is younger than {GUARDIAN_CONSENT_AGE}: consent.guardian_consent must be true.")
    return PreparedRegistration(
        identity=vault.Identity(real_name=name, document=document, phone=phone),
        external_ref=request.external_ref, notice_version=request.notice_version,
        accepted_at=request.accepted_at, guardian_consent=request.guardian_consent is True,
        adult=age is not None and age >= ADULT_AGE,
    )


def find_person(session: Session, keyring: Keyring, document: documents.Document) -> Person | None:
    candidates = list(vault.index_candidates(keyring, document).values())
    return session.scalars(select(Person).where(Person.doc_index.in_(candidates))).first()


def _open_accounts(session: Session, person: Person, platform_id: str) -> list[Account]:
    return list(session.scalars(select(Account).where(
        Account.person_id == person.id, Account.platform_id == platform_id, Account.slot.is_not(None))
        .order_by(Account.slot)))


def _refusal(session: Session, keyring: Keyring, principal: Principal, person: Person,
             prepared: PreparedRegistration, now: datetime) -> None:
    """Raise if this person may not open another account on this platform."""
    block = sanctions.registration_block(session, person.id, principal.platform_id, now)
    if block is not None:
        until = (f"It ends at {block.expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}." if block.expires_at
                 else "It has no end date.")
        raise RegistrationRefused(f"The person is barred from registering on this platform. {until}",
                                  extra={"_sanction_id": block.id})
    if person.state != PERSON_ACTIVE:
        return  # a sanction trace: no accounts, no name to compare
    accounts = _open_accounts(session, person, principal.platform_id)
    if len(accounts) >= principal.policy.max_accounts_per_person:
        raise DuplicateIdentity(
            "The person already holds the maximum number of open accounts on this platform.",
            extra={"existing_pseudonyms": [a.pseudonym for a in accounts]})
    if vault.open_identity(keyring, person).real_name != prepared.identity.real_name:
        raise IdentityNotVerified("The name does not match the name held for this document.")


def precheck(session: Session, keyring: Keyring, principal: Principal, prepared: PreparedRegistration,
             now: datetime) -> None:
    person = find_person(session, keyring, prepared.identity.document)
    if person is not None:
        _refusal(session, keyring, principal, person, prepared, now)


def _create_person(session: Session, keyring: Keyring, prepared: PreparedRegistration, now: datetime) -> Person | None:
    person_id = uuid.uuid4()
    person = Person(id=person_id, state=PERSON_ACTIVE, adult=prepared.adult, created_at=now,
                    **vault.seal_identity(keyring, person_id, prepared.identity))
    try:
        with session.begin_nested():
            session.add(person)
            session.flush()
    except IntegrityError:
        return None  # someone registered the same document first; look it up again
    return person


def _revive(session: Session, keyring: Keyring, person: Person, prepared: PreparedRegistration) -> None:
    """A trace that a sanction still keeps registers again as the SAME person: name, phone and
    birth date are sealed again under the DEK the trace kept, so sanctions filed by other
    platforms keep binding them. (A trace whose sanctions have all ended was erased instead.)"""
    vault.reseal_identity(keyring, person, prepared.identity)
    person.state = PERSON_ACTIVE
    session.flush()


def _free_slot(taken: list[Account], maximum: int) -> int:
    used = {a.slot for a in taken}
    return next(slot for slot in range(1, maximum + 1) if slot not in used)


def register(session: Session, keyring: Keyring, principal: Principal, prepared: PreparedRegistration,
             verification: Verification, now: datetime) -> Account:
    """Create the account (and the person, if new). Exactly one of two racing registrations of the
    same person wins a slot: the (platform, person, slot) and blind-index constraints decide."""
    for _ in range(_ATTEMPTS):
        person = find_person(session, keyring, prepared.identity.document)
        if person is not None:
            settled = person.state
            if settled == PERSON_TRACE:
                # Under the person's row lock: a trace whose sanctions have all ended is erased here.
                settled = sanctions.settle_person(session, person, now)
                if settled == PERSON_ACTIVE:
                    continue  # a racing registration revived them first: check again as an active person
            _refusal(session, keyring, principal, person, prepared, now)
            if settled == PERSON_TRACE:
                _revive(session, keyring, person, prepared)
            elif settled == PERSON_ERASED:
                person = None  # every sanction had ended: the person starts afresh
        created = person is None
        if person is None:
            person = _create_person(session, keyring, prepared, now)
            if person is None:
                continue
        # A person created by this transaction has no account, and no other transaction can see
        # the row to give them one before this one commits: slot 1 is free and the insert cannot
        # race, so it needs neither the accounts query nor a savepoint.
        taken = [] if created else _open_accounts(session, person, principal.platform_id)
        account = Account(
            pseudonym=new_pseudonym(), platform_id=principal.platform_id, person_id=person.id,
            slot=_free_slot(taken, principal.policy.max_accounts_per_person), status=ACCOUNT_ACTIVE,
            external_ref=prepared.external_ref, verification_level=verification.level,
            verification_method=verification.method, verified_at=verification.verified_at,
            consent_notice_version=prepared.notice_version, consent_accepted_at=prepared.accepted_at,
            guardian_consent=prepared.guardian_consent, created_at=now)
        if created:
            session.add(account)
            session.flush()
        else:
            try:
                with session.begin_nested():
                    session.add(account)
                    session.flush()
            except IntegrityError:
                continue  # a racing registration took the slot; the next pass sees it
        set_committed_value(account, "person", person)  # known already: spare the view a lazy load
        if prepared.adult and not person.adult:
            person.adult = True
        if prepared.identity.phone and person.phone_ct is None:
            person.phone_ct = vault.seal_phone(keyring, person, prepared.identity.phone)
        audit.record(session, keyring, actor=principal.actor, action="account.registered",
                     subject=account.pseudonym,
                     details={"platform": principal.platform_id, "verification": verification.level})
        return account
    raise Conflict("The registration raced other registrations of the same person; retry it.")

