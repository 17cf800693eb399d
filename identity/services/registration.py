"""Registering a person on a platform under a verified real name.

The flow is split so that a remote verification authority is never called while a database
transaction is open: `prepare` (pure rules) -> `precheck` (read-only: refusals and
duplicates, cheap to answer before asking the authority) -> the verifier -> `register`
(the writes, which repeat the checks under the unique constraints that decide races).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, TextualSelect, bindparam, select, text
from sqlalchemy.orm import Session

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
from identity.models import Account, Base, Person
from identity.models.person import ACCOUNT_ACTIVE, PERSON_ACTIVE, PERSON_ERASED, PERSON_TRACE
from identity.services import accounts, audit, credit, sanctions, sandbox, vault
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
        # A sandbox platform takes only the published test identities, and no other platform does.
        document = sandbox.admit(document, sandbox_platform=principal.sandbox)
    except documents.DocumentError as exc:
        errors.update(exc.errors)
        document = None
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


_PERSONS = cast(Table, Person.__table__)
# Most registrations are of someone new: ask for the id only, load the row only when found.
_FIND_PERSON = select(_PERSONS.c.id).where(_PERSONS.c.doc_index.in_(bindparam("candidates", expanding=True)))


def find_person(session: Session, keyring: Keyring, document: documents.Document) -> Person | None:
    candidates = list(vault.index_candidates(keyring, document).values())
    found = session.connection().execute(_FIND_PERSON, {"candidates": candidates}).first()
    return None if found is None else session.get(Person, found[0])


def _open_accounts(session: Session, person: Person, platform_id: str) -> list[Account]:
    return list(session.scalars(select(Account).where(
        Account.person_id == person.id, Account.platform_id == platform_id, Account.slot.is_not(None))
        .order_by(Account.slot)))


HELD_NAME = "held_name"  # the mismatch's source in the audit log; the authority's is "authority"


def _refusal(session: Session, keyring: Keyring, principal: Principal, person: Person,
             prepared: PreparedRegistration, now: datetime, *, name_checked: bool = False) -> list[Account]:
    """Raise if this person may not open another account on this platform; else their open
    accounts here.

    The name is compared first: whoever does not know the name held for a document learns
    nothing else about it (not its accounts here, not its blacklist), only the same 422 an
    authority's mismatch answers. A trace holds no name, so only its blacklist can refuse it.
    """
    if person.state == PERSON_ACTIVE and not name_checked and not vault.name_matches(
            keyring, person, prepared.identity.real_name):
        raise held_under_another_name()
    block = sanctions.registration_block(session, person.id, principal.platform_id, now)
    if block is not None:
        until = (f"It ends at {block.expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}." if block.expires_at
                 else "It has no end date.")
        raise RegistrationRefused(f"The person is barred from registering on this platform. {until}",
                                  extra={"_sanction_id": block.id})
    if person.state != PERSON_ACTIVE:
        return []  # a sanction trace: no accounts
    accounts = _open_accounts(session, person, principal.platform_id)
    if len(accounts) >= principal.policy.max_accounts_per_person:
        raise DuplicateIdentity(
            "The person already holds the maximum number of open accounts on this platform.",
            extra={"existing_pseudonyms": [a.pseudonym for a in accounts]})
    return accounts


def held_under_another_name() -> IdentityNotVerified:
    """The answer to a held document with another name: an authority's mismatch, word for word."""
    return IdentityNotVerified(extra={"_source": HELD_NAME})


def precheck(session: Session, keyring: Keyring, principal: Principal, prepared: PreparedRegistration,
             now: datetime) -> bool:
    """Refusals and duplicates, before the authority is asked. True when the document is held
    under another name: the caller asks the authority all the same and only then raises
    `held_under_another_name()`, so that this answer takes as long as an authority's mismatch."""
    person = find_person(session, keyring, prepared.identity.document)
    if person is None:
        return False
    if person.state == PERSON_ACTIVE and not vault.name_matches(keyring, person, prepared.identity.real_name):
        return True
    _refusal(session, keyring, principal, person, prepared, now, name_checked=True)
    return False


@functools.cache
def _insert_ignoring_conflicts(table: Table, columns: tuple[str, ...]) -> TextualSelect:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING <pk>`, the same SQL on SQLite (3.35+) and
    PostgreSQL. Written as typed text because SQLAlchemy does not cache the compiled form of its
    dialect-specific ON CONFLICT constructs, and compiling them cost more than running them."""
    pk = table.primary_key.columns.values()[0]
    typed = [bindparam(c, type_=table.c[c].type) for c in columns]  # KeyError for anything not a column
    # Identifiers come from the table definition only; every value is a bound parameter.
    names, slots = ", ".join(columns), ", ".join(":" + c for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({slots}) ON CONFLICT DO NOTHING RETURNING {pk.name}"  # noqa: S608 - table names # nosec B608
    return text(sql).bindparams(*typed).columns(pk)


def _insert_unless_taken(session: Session, model: type[Base], values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: False when a unique constraint says someone was first.

    This lets the constraint decide a race without a savepoint (two extra statements on every
    registration) and without aborting the transaction. On PostgreSQL the statement waits for a
    racing transaction holding the same key to finish, then yields to it if it committed.
    """
    table = model.__table__
    assert isinstance(table, Table)
    statement = _insert_ignoring_conflicts(table, tuple(sorted(values)))
    return session.connection().execute(statement, values).first() is not None


def _create_person(session: Session, keyring: Keyring, prepared: PreparedRegistration,
                   now: datetime) -> uuid.UUID | None:
    """A new person row (Core insert: no ORM object is needed), or None if the document is taken."""
    person_id = uuid.uuid4()
    values = {"id": person_id, "state": PERSON_ACTIVE, "adult": prepared.adult, "created_at": now,
              **vault.seal_identity(keyring, person_id, prepared.identity)}
    return person_id if _insert_unless_taken(session, Person, values) else None


def _revive(session: Session, keyring: Keyring, person: Person, prepared: PreparedRegistration) -> None:
    """A trace that a sanction still keeps registers again as the SAME person: name, phone and
    birth date are sealed again under the DEK the trace kept, so sanctions filed by other
    platforms keep binding them. (A trace whose sanctions have all ended was erased instead.)"""
    vault.reseal_identity(keyring, person, prepared.identity)
    person.state = PERSON_ACTIVE
    session.flush()


def _register_new_person(session: Session, keyring: Keyring, principal: Principal, person_id: uuid.UUID,
                         prepared: PreparedRegistration, verification: Verification,
                         now: datetime) -> accounts.AccountView | None:
    """The account of a person this transaction just created. Nobody else can see the person
    before we commit: slot 1 is free and no sanction binds them, so the account needs no query
    and the view no sanctions lookup. None only on a pseudonym collision (128 random bits)."""
    account = _new_account(principal, person_id, 1, prepared, verification, now)
    if not _insert_unless_taken(session, Account, _columns(account)):
        return None
    _record(session, keyring, principal, account, verification)
    return accounts.AccountView(account=account, status="active", adult=prepared.adult, restrictions=[])


def _new_account(principal: Principal, person_id: uuid.UUID, slot: int, prepared: PreparedRegistration,
                 verification: Verification, now: datetime) -> Account:
    """A transient Account: written with a Core insert, then only read to answer the request."""
    return Account(
        pseudonym=new_pseudonym(), platform_id=principal.platform_id, person_id=person_id, slot=slot,
        status=ACCOUNT_ACTIVE, external_ref=prepared.external_ref, verification_level=verification.level,
        verification_method=verification.method, verified_at=verification.verified_at,
        consent_notice_version=prepared.notice_version, consent_accepted_at=prepared.accepted_at,
        guardian_consent=prepared.guardian_consent, created_at=now, closed_at=None)


def _columns(account: Account) -> dict[str, Any]:
    return {column.key: getattr(account, column.key) for column in Account.__table__.columns
            if column.key != "id"}


def _record(session: Session, keyring: Keyring, principal: Principal, account: Account,
            verification: Verification) -> None:
    audit.record(session, keyring, actor=principal.actor, action="account.registered", subject=account.pseudonym,
                 details={"platform": principal.platform_id, "verification": verification.level},
                 now=account.created_at)


def _free_slot(taken: list[Account], maximum: int) -> int | None:
    used = {a.slot for a in taken}
    return next((slot for slot in range(1, maximum + 1) if slot not in used), None)


def register(session: Session, keyring: Keyring, principal: Principal, prepared: PreparedRegistration,
             verification: Verification, now: datetime) -> accounts.AccountView:
    """Create the account (and the person, if new). Exactly one of two racing registrations of the
    same person wins a slot: the (platform, person, slot) and blind-index constraints decide."""
    for attempt in range(_ATTEMPTS):
        if attempt == 0 and len(keyring.versions("index")) == 1:
            # With a single index key the blind index's unique constraint alone tells a new
            # person from a known one, so most registrations (new people) skip the lookup: the
            # insert yields to an existing row, and only then is the person looked up. During
            # an index rotation a known person may be indexed under the old key, which this
            # insert could not see, so then the lookup (under every key) comes first.
            created = _create_person(session, keyring, prepared, now)
            if created is not None:
                view = _register_new_person(session, keyring, principal, created, prepared, verification, now)
                if view is not None:
                    return view
                continue
        person = find_person(session, keyring, prepared.identity.document)
        taken: list[Account] = []
        if person is not None:
            settled = person.state
            if settled == PERSON_TRACE:
                # Under the person's row lock: a trace whose sanctions have all ended is erased here.
                settled = sanctions.settle_person(session, person, now)
                if settled == PERSON_ACTIVE:
                    continue  # a racing registration revived them first: check again as an active person
            taken = _refusal(session, keyring, principal, person, prepared, now)
            if settled == PERSON_TRACE:
                _revive(session, keyring, person, prepared)
            elif settled == PERSON_ERASED:
                person = None  # every sanction had ended: the person starts afresh
        if person is None:
            created = _create_person(session, keyring, prepared, now)
            if created is None:
                continue  # someone registered the same document first; look it up again
            view = _register_new_person(session, keyring, principal, created, prepared, verification, now)
            if view is None:
                continue
            return view
        # The accounts the refusal counted, not a second read: on PostgreSQL a registration
        # committing between two reads could fill every slot (StopIteration, a 500). A slot taken
        # since is caught by the insert; the next pass then answers duplicate_identity.
        slot = _free_slot(taken, principal.policy.max_accounts_per_person)
        if slot is None:
            continue
        account = _new_account(principal, person.id, slot, prepared, verification, now)
        if not _insert_unless_taken(session, Account, _columns(account)):
            continue  # a racing registration took the slot; the next pass sees it
        if prepared.adult and not person.adult:
            person.adult = True
        if prepared.identity.phone and person.phone_ct is None:
            person.phone_ct = vault.seal_phone(keyring, person, prepared.identity.phone)
        session.flush()
        _record(session, keyring, principal, account, verification)
        restrictions = sanctions.active_on_platform(session, person.id, principal.platform_id, now)
        return accounts.AccountView(account=account, status="restricted" if restrictions else "active",
                                    adult=accounts.is_adult(keyring, person, now.date()), restrictions=restrictions,
                                    credit=credit.credit_of(session, person.id, principal.platform_id, now))
    raise Conflict("The registration raced other registrations of the same person; retry it.")

