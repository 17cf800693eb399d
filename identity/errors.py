"""The domain's exceptions.

Each known error carries the contract's `code` and HTTP `status`, so the API layer can
turn it into a problem+json response without knowing the domain. Messages are written
for the caller and must never contain a submitted name, document number, phone number
or key: they describe the rule, not the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    """A known failure with a contract error code."""

    code: str = "internal_error"
    status: int = 500
    title: str = "Internal server error"

    def __init__(self, detail: str | None = None, *, extra: Mapping[str, Any] | None = None) -> None:
        self.detail = detail or self.title
        self.extra: dict[str, Any] = dict(extra or {})
        super().__init__(self.detail)


class ValidationFailed(DomainError):
    code, status, title = "validation_failed", 422, "The request body is not valid"

    def __init__(self, errors: Mapping[str, Sequence[str]], detail: str | None = None) -> None:
        super().__init__(detail or "One or more fields are not valid.")
        self.errors = {path: list(messages) for path, messages in errors.items()}


class GuardianConsentRequired(DomainError):
    code, status, title = "guardian_consent_required", 422, "Guardian consent is required"


class AgeRequirementNotMet(DomainError):
    code, status, title = "age_requirement_not_met", 422, "The platform's minimum age is not met"


class DuplicateIdentity(DomainError):
    code, status, title = "duplicate_identity", 409, "The person already holds the maximum number of accounts"

    @property
    def existing_pseudonyms(self) -> list[str]:
        """The person's open accounts on the platform that registered them: that platform's only
        (the body's `existing_pseudonyms`)."""
        return list(self.extra.get("existing_pseudonyms") or [])


class RegistrationRefused(DomainError):
    code, status, title = "registration_refused", 403, "Registration refused"


class IdentityNotVerified(DomainError):
    """Raised alike for an authority's "no match" and for a held document under another name:
    the body (title and detail) must not tell them apart, so raise it without a detail."""

    code, status, title = "identity_not_verified", 422, "The name and the identity document could not be verified"


class VerificationUnavailable(DomainError):
    code, status, title = "verification_unavailable", 503, "The verification authority is unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 30) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class RateLimited(DomainError):
    code, status, title = "rate_limited", 429, "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail or "Too many requests; retry after the number of seconds in Retry-After.")
        self.retry_after = retry_after


class NotFound(DomainError):
    code, status, title = "not_found", 404, "Not found"


class IdentityErased(DomainError):
    code, status, title = "identity_erased", 410, "The identity data has been erased"


class CrossBorderAssessmentRequired(DomainError):
    code, status, title = "cross_border_assessment_required", 403, "A cross-border security assessment is required"


class AccountRestricted(DomainError):
    code, status, title = "account_restricted", 403, "The account may not do this"


class IdempotencyKeyReused(DomainError):
    code, status, title = "idempotency_key_reused", 422, "Idempotency key reused with a different request"


class Unauthorized(DomainError):
    code, status, title = "unauthorized", 401, "Authentication required"


class Forbidden(DomainError):
    code, status, title = "forbidden", 403, "Forbidden"


class Conflict(DomainError):
    """A state conflict not covered by a more specific code (e.g. lifting a lifted sanction)."""

    code, status, title = "conflict", 409, "Conflict"


class OperatorError(Exception):
    """A failure of an admin command, reported to the operator as one line."""

    code = "command_failed"  # what `--json` reports as error.code; subclasses name their reason


class KeyringError(Exception):
    """The keyring cannot be loaded or used (missing root key, unknown key version)."""


class GroupCreationRefused(DomainError):
    code, status, title = "group_creation_refused", 403, "The founder may not found a group"


class GroupManagementRefused(DomainError):
    code, status, title = "group_management_refused", 403, "The account may not manage groups"
