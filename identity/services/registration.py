"""Registering a person on a platform under a verified real name.

`register_person` is the use case, whoever calls it (the API's `POST /v1/registrations`, a
hosted page): `prepare` (pure rules) -> the mismatch limits -> `precheck` (read-only: refusals
and duplicates, cheap to answer before asking an authority) -> the verifier -> `register` (the
writes, which repeat the checks under the unique constraints that decide races). A remote
authority is never called while a database transaction is open; a refusal's audit event and a
mismatch's count are committed in transactions of their own, since the registration's rolls back.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, TextualSelect, bindparam, select, text
from sqlalchemy.orm import Session

from identity import documents
from identity.clock import utc_now
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
from identity.rates import Rate
from identity.services import accounts, audit, credit, mismatches, sanctions, sandbox, vault
from identity.services.authentication import Principal
from identity.services.maintenance_lock import UnitOfWork
from identity.verifiers import Verification, Verifier

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


def _open_accounts_unless_refused(session: Session, keyring: Keyring, principal: Principal, person: Person,
                                  prepared: PreparedRegistration, now: datetime, *,
                                  name_checked: bool = False) -> list[Account]:
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
    _open_accounts_unless_refused(session, keyring, principal, person, prepared, now, name_checked=True)
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


def _register_new_person(session: Session, keyring: Keyring, principal: Principal, prepared: PreparedRegistration,
                         verification: Verification, now: datetime) -> accounts.AccountView | None:
    """A new person and their first account; None when the document turned out taken (someone
    registered it first: look it up) or, at 128 random bits hardly ever, the pseudonym was.

    Nobody else can see the person before we commit: slot 1 is free and no sanction binds them,
    so the account needs no query and the view no sanctions lookup."""
    person_id = _create_person(session, keyring, prepared, now)
    if person_id is None:
        return None
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
    if len(keyring.versions("index")) == 1:
        # With a single index key the blind index's unique constraint alone tells a new person
        # from a known one, so most registrations (new people) skip the lookup: the insert
        # yields to an existing row, and only then is the person looked up. During an index
        # rotation a known person may be indexed under the old key, which this insert could not
        # see, so then the lookup (under every key) comes first.
        view = _register_new_person(session, keyring, principal, prepared, verification, now)
        if view is not None:
            return view
    for _ in range(_ATTEMPTS):
        person = find_person(session, keyring, prepared.identity.document)
        taken: list[Account] = []
        if person is not None:
            settled = person.state
            if settled == PERSON_TRACE:
                # Under the person's row lock: a trace whose sanctions have all ended is erased here.
                settled = sanctions.apply_retention(session, person, now)
                if settled == PERSON_ACTIVE:
                    continue  # a racing registration revived them first: check again as an active person
            taken = _open_accounts_unless_refused(session, keyring, principal, person, prepared, now)
            if settled == PERSON_TRACE:
                _revive(session, keyring, person, prepared)
            elif settled == PERSON_ERASED:
                person = None  # every sanction had ended: the person starts afresh
        if person is None:
            view = _register_new_person(session, keyring, principal, prepared, verification, now)
            if view is None:
                continue  # someone registered the same document first; look it up again
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


# -- the use case, in one call ----------------------------------------------------------------

@dataclass(frozen=True)
class Registrar:
    """What every registration in a process shares: build one at start-up (the runtime holds it).

    `default_mismatch_limit` is `IDENTITY_MISMATCH_LIMIT`, for platforms whose policy sets none;
    `clear_platforms` remembers, per process, the platforms with no mismatch to count.
    """

    verifier: Verifier
    default_mismatch_limit: str
    clear_platforms: mismatches.ClearPlatforms = field(default_factory=mismatches.ClearPlatforms)


@dataclass(frozen=True)
class Boundary:
    """What one caller lends one registration: its transactions, its keyring and its epoch.

    `apart` and `final` are units of work (`services/maintenance_lock.UnitOfWork`): each `with` block
    is one transaction, rolled back when the block raises.

    - `apart` commits when its block ends. It holds what must be committed on its own: the
      checks made before a remote authority is asked (so that no transaction is open during the
      call), and a refusal's audit event or a mismatch's count (they outlive the registration,
      which rolls back).
    - `final` holds the registration's writes. A caller that stores something in the same
      transaction (the API stores the idempotent response) leaves it open when the block ends
      and commits it at its own boundary. A caller with nothing to add passes `apart` again.

    `keyring(session)` gives the keyring as of this call (the API: under the request's `keys`
    epoch). `mismatches_epoch` is the `mismatches` epoch read before anything it guards, which
    lets the registrar's `clear_platforms` answer from memory; None counts every time. `clock`
    stamps a mismatch when the authority has answered, which may be long after `now`.
    """

    apart: UnitOfWork
    final: UnitOfWork
    keyring: Callable[[Session], Keyring]
    mismatches_epoch: int | None = None
    clock: Callable[[], datetime] = utc_now


def register_person(registrar: Registrar, boundary: Boundary, caller: Principal, request: RegistrationRequest,
                    now: datetime) -> accounts.AccountView:
    """Register `request`'s person on `caller`'s platform; the new account's view.

    Raises the contract's errors: `ValidationFailed`, `AgeRequirementNotMet`,
    `GuardianConsentRequired` (before anything is read), `RateLimited` (a mismatch limit),
    `RegistrationRefused` (audited as `registration.refused`), `DuplicateIdentity`,
    `IdentityNotVerified` (counted against the limits and audited as
    `registration.not_verified`; or `RateLimited` if racing mismatches reached a limit
    meanwhile), `VerificationUnavailable`, `Conflict`.

    `DuplicateIdentity.existing_pseudonyms` are the person's open accounts on `caller`'s platform
    and on no other: only that platform's accounts are counted against its limit, so a caller may
    show them to that platform (the API's body does), and never learns another platform's.

    A sandbox platform is answered by `sandbox.AUTHORITY`, whatever `registrar.verifier` is, and
    no mismatch limit applies to it: every name is published (nothing to guess), and a
    platform's tests must get the same answer every run.
    """
    limit = mismatches.platform_rate(caller, registrar.default_mismatch_limit)
    prepared = prepare(request, caller, now)
    verifier: Verifier = sandbox.AUTHORITY if caller.sandbox else registrar.verifier
    references: dict[int, bytes] = {}
    try:
        if verifier.is_remote:
            # Answer limits, refusals and duplicates before asking the authority, and end that
            # transaction first: none stays open across the remote call.
            with boundary.apart() as session:
                keyring = boundary.keyring(session)
                references = _within_limits(registrar, boundary, session, keyring, caller, prepared, limit, now)
                another_name_holds_it = precheck(session, keyring, caller, prepared, now)
            verification = verifier.verify(prepared.identity.real_name, prepared.identity.document)
            if another_name_holds_it:  # only now, so that this answer takes as long as the authority's
                raise held_under_another_name()
            with boundary.final() as session:
                return register(session, boundary.keyring(session), caller, prepared, verification, now)
        with boundary.final() as session:
            keyring = boundary.keyring(session)
            references = _within_limits(registrar, boundary, session, keyring, caller, prepared, limit, now)
            verification = verifier.verify(prepared.identity.real_name, prepared.identity.document)
            return register(session, keyring, caller, prepared, verification, now)
    except RegistrationRefused as refused:
        with boundary.apart() as session:
            audit.record(session, boundary.keyring(session), actor=caller.actor, action="registration.refused",
                         subject=refused.extra.get("_sanction_id"), details={"platform": caller.platform_id})
        raise
    except IdentityNotVerified as mismatch:
        # Counted when answered, after the authority took its time; under the platform's lock,
        # so this raises RateLimited instead if racing mismatches reached a limit meanwhile.
        with boundary.apart() as session:
            mismatches.record(session, boundary.keyring(session), caller, limit, references,
                              mismatch.extra.get("_source", "authority"), boundary.clock(), counted=not caller.sandbox)
        raise


def _within_limits(registrar: Registrar, boundary: Boundary, session: Session, keyring: Keyring, caller: Principal,
                   prepared: PreparedRegistration, limit: Rate, now: datetime) -> dict[int, bytes]:
    """The document's mismatch references, once no mismatch limit covering this registration is
    reached. Before anything about the document is looked up: once a limit is reached, every
    registration it covers answers 429, whoever holds the number."""
    references = mismatches.references(keyring, prepared.identity.document)
    if not caller.sandbox:
        mismatches.ensure_allowed(session, caller.platform_id, limit, references, now,
                                  clear=registrar.clear_platforms, epoch=boundary.mismatches_epoch)
    return references
