"""Onboarding platforms, their policies, and the API keys an operator issues them."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.clock import utc_now
from identity.crypto import secrets as key_secrets
from identity.crypto.keyring import Keyring
from identity.errors import OperatorError
from identity.ids import new_key_id, new_platform_id
from identity.models import ApiKey, Platform
from identity.rates import parse_rate
from identity.services import audit, epochs
from identity.services.operators import CLI_OPERATOR

SCOPES = (
    "registrations:write", "accounts:read", "accounts:write", "tokens:issue", "tokens:introspect",
    "sanctions:read", "sanctions:write", "groups:read", "groups:write", "webhooks:write",
)
PHONE_POLICIES = ("forbidden", "optional", "required")
# `overseas`: the platform is abroad, so personal data may only reach it under a security assessment.
JURISDICTIONS = ("domestic", "overseas")
MAX_RETURN_URLS = 20
MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class PlatformPolicy:
    min_age: int | None = None
    max_accounts_per_person: int = 1
    phone: str = "forbidden"
    jurisdiction: str = "domestic"
    # Registrations that could not be verified, e.g. "300 per hour"; None: IDENTITY_MISMATCH_LIMIT.
    mismatch_limit: str | None = None
    # Groups and their founders' credit (docs/groups.md).
    max_groups_per_person: int = 10
    min_credit_to_found: int = 60
    credit_penalty: int = 20
    credit_penalty_days: int = 365
    suspension_days: int = 180
    blacklist_below: int = 40
    # The verification page (docs/verification-page.md): where a person may be sent back to (exact
    # URLs), and the privacy notice they accept there. No notice_version: the page cannot be used.
    return_urls: tuple[str, ...] = ()
    notice_version: str | None = None
    notice_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "return_urls", tuple(self.return_urls))  # stored as a JSON list

    def applied_mismatch_limit(self, default: str) -> str:
        """The platform's own `mismatch_limit`, else the service's default (IDENTITY_MISMATCH_LIMIT)."""
        return self.mismatch_limit or default

    def as_json(self) -> dict[str, Any]:
        stored = asdict(self)
        if self.mismatch_limit is None:
            del stored["mismatch_limit"]  # not chosen: the service's default applies, whatever it becomes
        stored["return_urls"] = list(self.return_urls)
        return stored


class _WholeNumber(fields.Integer):
    """A JSON integer only: not "10", not 10.5, not true (which Python counts as 1)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        result: int = super()._deserialize(value, attr, data, **kwargs)
        return result


class PolicySchema(Schema):
    class Meta:
        unknown = RAISE

    min_age = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=150))
    max_accounts_per_person = fields.Integer(validate=validate.Range(min=1, max=100))
    phone = fields.String(validate=validate.OneOf(PHONE_POLICIES))
    jurisdiction = fields.String(validate=validate.OneOf(JURISDICTIONS))
    mismatch_limit = fields.String(allow_none=True, validate=lambda value: _valid_rate(value))
    max_groups_per_person = _WholeNumber(validate=validate.Range(min=1, max=100_000))
    # Scores run from 0 to 100; a threshold of 0 never refuses (no score is under 0).
    min_credit_to_found = _WholeNumber(validate=validate.Range(min=0, max=100))
    credit_penalty = _WholeNumber(validate=validate.Range(min=0, max=100))
    credit_penalty_days = _WholeNumber(validate=validate.Range(min=1, max=3650))
    suspension_days = _WholeNumber(validate=validate.Range(min=1, max=3650))
    blacklist_below = _WholeNumber(validate=validate.Range(min=0, max=100))
    return_urls = fields.List(fields.String(validate=lambda value: _valid_return_url(value)),
                              validate=validate.Length(max=MAX_RETURN_URLS))
    notice_version = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    notice_url = fields.String(allow_none=True, validate=lambda value: _valid_notice_url(value))



def return_url_allowed(url: str) -> bool:
    """`https` to any host, or `http` to a loopback address, where nobody on the path can read the
    session id: an absolute URL without user name, password or fragment (the service appends
    `?session=…&state=…`, and a fragment would swallow it)."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        return False
    try:
        parsed = urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    if not parsed.hostname or parsed.username is not None or parsed.password is not None or parsed.fragment \
            or "#" in url:
        return False
    if parsed.scheme == "https":
        return True
    if parsed.scheme != "http":
        return False
    if parsed.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parsed.hostname).is_loopback
    except ValueError:
        return False


def _valid_return_url(value: str) -> None:
    if not return_url_allowed(value):
        raise ValidationError("each return URL must be an absolute https URL, or http to a loopback address "
                              "(127.0.0.1, ::1, localhost), without user name or fragment")


def _valid_notice_url(value: str | None) -> None:
    if value is None:
        return
    if len(value) > MAX_URL_LENGTH or urlsplit(value).scheme not in ("https", "http") or not urlsplit(value).netloc:
        raise ValidationError("must be an absolute http(s) URL of the privacy notice")


def _valid_rate(value: str | None) -> None:
    if value is not None:
        try:
            parse_rate(value)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def parse_policy(data: Any, *, base: PlatformPolicy | None = None) -> PlatformPolicy:
    """The policy in `data`; keys it leaves out keep their value in `base` (else the defaults)."""
    try:
        loaded = PolicySchema().load(data if data is not None else {})
    except ValidationError as exc:
        messages = exc.normalized_messages()
        if "_schema" in messages:  # the file holds a list or a string, not an object
            raise OperatorError("invalid policy: a policy is a JSON object") from None
        problems = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in messages.items())
        raise OperatorError(f"invalid policy: {problems}") from None
    if loaded.get("mismatch_limit") is not None:
        loaded["mismatch_limit"] = str(parse_rate(loaded["mismatch_limit"]))  # stored in one spelling
    return replace(base or PlatformPolicy(), **loaded)


def policy_of(platform: Platform) -> PlatformPolicy:
    return PlatformPolicy(**platform.policy)


def effective_policy(platform: Platform, default_mismatch_limit: str) -> dict[str, Any]:
    """Every policy key with the value that applies, the service's defaults filled in."""
    policy = policy_of(platform)
    return {**asdict(policy), "mismatch_limit": policy.applied_mismatch_limit(default_mismatch_limit)}


def create_platform(session: Session, keyring: Keyring, name: str, policy: PlatformPolicy, *,
                    sandbox: bool = False) -> Platform:
    """`sandbox`: the platform registers only the published test identities (services/sandbox.py),
    for its integration tests; set here once, never changed, so real and test data never mix."""
    name = name.strip()
    if not name or len(name) > 200:
        raise OperatorError("a platform name is 1 to 200 characters")
    platform = Platform(id=new_platform_id(), name=name, policy=policy.as_json(), status="active",
                        created_at=utc_now(), sandbox=sandbox)
    session.add(platform)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise OperatorError(f"a platform named {name!r} already exists") from None
    audit.record(session, keyring, actor=CLI_OPERATOR, action="platform.created", subject=platform.id,
                 details={"policy": policy.as_json(), "sandbox": sandbox})
    return platform


def list_platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.created_at, Platform.id)))


def get_platform(session: Session, platform_id: str) -> Platform:
    platform = session.get(Platform, platform_id)
    if platform is None:
        raise OperatorError(f"no platform {platform_id}")
    return platform


def update_policy(session: Session, keyring: Keyring, platform_id: str, data: Any) -> Platform:
    """Change the keys of the platform's policy that `data` names; the others stay as they are.

    Bumps the `auth` epoch: every process re-reads the policy with the platform's keys at once;
    and the `access` epoch, since cached token scopes depend on it (`min_credit_to_found`).
    """
    platform = get_platform(session, platform_id)
    before = policy_of(platform)
    after = parse_policy(data, base=before)
    changed = sorted(k for k, v in asdict(after).items() if asdict(before)[k] != v)
    if changed:
        platform.policy = after.as_json()
        session.flush()
        epochs.bump(session, "auth")
        epochs.bump(session, "access")
    audit.record(session, keyring, actor=CLI_OPERATOR, action="platform.policy_updated", subject=platform.id,
                 details={"policy": after.as_json(), "changed": changed})
    return platform


def disable_platform(session: Session, keyring: Keyring, platform_id: str) -> Platform:
    platform = get_platform(session, platform_id)
    if platform.status != "disabled":
        platform.status, platform.disabled_at = "disabled", utc_now()
        epochs.bump(session, "auth")
        audit.record(session, keyring, actor=CLI_OPERATOR, action="platform.disabled", subject=platform.id)
    return platform


def parse_scopes(raw: str) -> list[str]:
    scopes = [s.strip() for s in raw.split(",") if s.strip()]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise OperatorError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not scopes:
        raise OperatorError("give at least one scope")
    return sorted(set(scopes), key=SCOPES.index)


def issue_api_key(session: Session, keyring: Keyring, hasher: key_secrets.SecretHasher, platform_id: str,
                  scopes: list[str]) -> tuple[ApiKey, str]:
    """Returns the row and the key itself, which is never stored and cannot be shown again."""
    platform = get_platform(session, platform_id)
    if platform.status != "active":
        raise OperatorError(f"platform {platform_id} is disabled")
    key_id, secret = new_key_id(), key_secrets.new_secret()
    row = ApiKey(id=key_id, platform_id=platform.id, secret_hash=hasher.hash(secret), scopes=" ".join(scopes),
                 created_at=utc_now())
    session.add(row)
    session.flush()
    audit.record(session, keyring, actor=CLI_OPERATOR, action="api_key.issued", subject=key_id,
                 details={"platform": platform.id, "scopes": scopes})
    return row, key_secrets.format_api_key(key_id, secret)


def list_api_keys(session: Session, platform_id: str) -> list[ApiKey]:
    """The platform's keys, oldest first, revoked ones included (an operator asks which key was which)."""
    get_platform(session, platform_id)
    return list(session.scalars(select(ApiKey).where(ApiKey.platform_id == platform_id)
                                .order_by(ApiKey.created_at, ApiKey.id)))


def revoke_api_key(session: Session, keyring: Keyring, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise OperatorError(f"no API key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        epochs.bump(session, "auth")
        audit.record(session, keyring, actor=CLI_OPERATOR, action="api_key.revoked", subject=key_id,
                     details={"platform": row.platform_id})
    return row
