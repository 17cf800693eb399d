"""Sandbox platforms: integration tests against a real served instance, without real people.

A sandbox platform (`identity-admin platforms create NAME --sandbox`) registers only the
published test identities below, through the same registration service as any platform. Each
produces one outcome, whatever verifier the server runs, and no real authority is ever asked:
`SandboxAuthority` stands in for everything outside the platform's control (the authority, and
a blacklist another platform filed).

The numbers are valid GB 11643 numbers (check digit, existing region code, real birth date)
under the region code 710000 (Taiwan province in GB/T 2260). No Resident Identity Card is
issued with it, so no real person holds them; they are refused on every platform that is not
a sandbox all the same, so a published identity never becomes an account there. Sandbox
people live in an index namespace of their own (`Document.sandbox`): they never find, block
or link to a person registered outside the sandbox, nor the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Final

from identity import documents
from identity.clock import utc_now
from identity.documents.model import CN_RESIDENT_ID
from identity.errors import IdentityNotVerified, RegistrationRefused, VerificationUnavailable
from identity.verifiers import AUTHORITY_VERIFIED, Verification

REGISTERED_ADULT: Final = "registered_adult"
MINOR_UNDER_14: Final = "minor_under_14"
BLACKLISTED: Final = "blacklisted"
AUTHORITY_MISMATCH: Final = "authority_mismatch"
AUTHORITY_UNAVAILABLE: Final = "authority_unavailable"
SOURCE: Final = "sandbox"  # a sandbox mismatch's source in the audit log
#: Seconds the "authority unavailable" identity's 503 says to wait: the HTTP verifier's default.
UNAVAILABLE_RETRY_AFTER: Final = 30

NOT_PUBLISHED = ("Not a published test identity: a sandbox platform accepts only the identities "
                 "GET /v1/sandbox/identities lists.")
SANDBOX_ONLY = "A published test identity: only sandbox platforms accept it."


@dataclass(frozen=True)
class PublishedIdentity:
    """One published identity and the answer `POST /v1/registrations` gives it."""

    outcome: str
    real_name: str
    id_type: str
    number: str
    birth_date: date
    status: int
    code: str | None
    description: str


def _identity(outcome: str, real_name: str, number: str, birth_date: date, status: int, code: str | None,
              description: str) -> PublishedIdentity:
    return PublishedIdentity(outcome, real_name, CN_RESIDENT_ID, number, birth_date, status, code,
                             description)


PUBLISHED: Final[tuple[PublishedIdentity, ...]] = (
    _identity(REGISTERED_ADULT, "测试·成年", "710000199001010015", date(1990, 1, 1), 201, None,
              "Registered: attributes.adult is true, verification is authority_verified by the sandbox. "
              "Another name for this number answers 422 identity_not_verified."),
    _identity(MINOR_UNDER_14, "测试·儿童", "710000202006010027", date(2020, 6, 1), 422, "guardian_consent_required",
              "A child born 2020-06-01, under 14 until 2034-06-01: 422 guardian_consent_required unless "
              "consent.guardian_consent is true, then 201 with attributes.adult false (422 "
              "age_requirement_not_met where the platform's policy sets min_age)."),
    _identity(BLACKLISTED, "测试·黑名单", "71000019850315003X", date(1985, 3, 15), 403, "registration_refused",
              "Under a blacklist that covers every sandbox platform and has no end date: 403 registration_refused."),
    _identity(AUTHORITY_MISMATCH, "测试·不符", "710000198007200042", date(1980, 7, 20), 422, "identity_not_verified",
              "The authority answers that name and number do not match, whatever the name: 422 "
              "identity_not_verified."),
    _identity(AUTHORITY_UNAVAILABLE, "测试·无应答", "71000019751111005X", date(1975, 11, 11), 503,
              "verification_unavailable", "The authority cannot be reached: 503 verification_unavailable with "
              f"Retry-After: {UNAVAILABLE_RETRY_AFTER}; nothing is stored."),
)

_BY_DOCUMENT: Final[dict[tuple[str, str], PublishedIdentity]] = {(i.id_type, i.number): i for i in PUBLISHED}


def published(document: documents.Document) -> PublishedIdentity | None:
    return _BY_DOCUMENT.get((document.type, document.number))


def admit(document: documents.Document, *, sandbox_platform: bool) -> documents.Document:
    """The document as the platform may register it: on a sandbox, a published identity in the
    sandbox's index namespace; elsewhere, anything but a published identity. Raises
    DocumentError (on `id_document.number`, never echoing it) otherwise."""
    is_published = (document.type, document.number) in _BY_DOCUMENT
    if sandbox_platform and is_published:
        return replace(document, sandbox=True)
    if sandbox_platform or is_published:
        raise documents.DocumentError({"id_document.number": [NOT_PUBLISHED if sandbox_platform else SANDBOX_ONLY]})
    return document


class SandboxAuthority:
    """The verifier of every sandbox registration: answers each published identity's outcome,
    without any network call. Holds no state: one instance serves every thread."""

    is_remote: Final = False  # answers from the published table

    def verify(self, real_name: str, document: documents.Document) -> Verification:
        identity = published(document)
        if identity is None or not document.sandbox:  # `admit` let it through: never the case
            raise IdentityNotVerified()
        if identity.outcome == AUTHORITY_UNAVAILABLE:
            raise VerificationUnavailable(retry_after=UNAVAILABLE_RETRY_AFTER)
        if identity.outcome == AUTHORITY_MISMATCH or real_name != identity.real_name:
            raise IdentityNotVerified(extra={"_source": SOURCE})  # the audit log tells it from a real one
        if identity.outcome == BLACKLISTED:
            # As a global blacklist filed elsewhere answers: the name matched, so it is told.
            raise RegistrationRefused("The person is barred from registering on this platform. It has no end date.")
        return Verification(level=AUTHORITY_VERIFIED, method="sandbox", verified_at=utc_now())


AUTHORITY: Final = SandboxAuthority()
