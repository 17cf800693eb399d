"""Verification sessions: a platform sends a person to the service's own page, so that it never
receives the person's name or number (docs/verification-page.md).

A session is created `pending` with a single-use page secret, of which only a SHA-256 is kept.
It ends `completed` (an account was opened), `failed` (refused, already registered, or too many
refused submissions), `canceled` by the platform, or `expired` 30 minutes after creation.
`expired` is derived on every read from `expires_at` (no job has to run for a link to stop
working); the purge removes ended sessions after DELIVERED_RETENTION.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from identity.errors import Conflict, NotFound, ValidationFailed
from identity.ids import looks_like, new_verification_session_id
from identity.models import Account, Platform, VerificationSession
from identity.models.verification import (
    SESSION_CANCELED,
    SESSION_COMPLETED,
    SESSION_EXPIRED,
    SESSION_FAILED,
    SESSION_PENDING,
)
from identity.services.authentication import Principal
from identity.services.platforms import PlatformPolicy
from identity.services.webhooks.outbox import record_event

PREFIX = "vs_"
LIFETIME = timedelta(minutes=30)
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
# Refused submissions after which the link stops working (the contract's limit).
MAX_REFUSED_SUBMISSIONS = 5
# `last_error.code` of a session failed by that limit (docs/errors.md).
TOO_MANY_ATTEMPTS_CODE = "too_many_attempts"
_SECRET_BYTES = 32
# The page: /verify/{session_id}/{secret}. The secret is the last path segment, so the form posts
# back to the very URL it was served at (no hidden field, no query string), and logs show only the
# route template (identity.log_paths).
PAGE_PREFIX = "/verify"


def page_path(session_id: str, secret: str) -> str:
    return f"{PAGE_PREFIX}/{session_id}/{secret}"


def page_url(public_base: str, session_id: str, secret: str) -> str:
    """The link a platform sends the person to, under the service's public URL (IDENTITY_ISSUER)."""
    return public_base.rstrip("/") + page_path(session_id, secret)


@dataclass(frozen=True)
class SessionRequest:
    return_url: str
    external_ref: str | None
    state: str | None
    locale: str


@dataclass(frozen=True)
class CreatedSession:
    row: VerificationSession
    secret: str  # shown once, inside the page's URL; never stored


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def status_of(row: VerificationSession, now: datetime) -> str:
    """The stored status, except that a pending session past `expires_at` is `expired`."""
    if row.status == SESSION_PENDING and now >= row.expires_at:
        return SESSION_EXPIRED
    return row.status


def create(session: Session, principal: Principal, request: SessionRequest, now: datetime) -> CreatedSession:
    """A pending session for the caller's platform. The return URL must be one the operator put in
    the platform's policy, exactly: the service never sends a person to an address the platform did
    not register beforehand (an open redirect otherwise)."""
    errors: dict[str, list[str]] = {}
    if request.return_url not in principal.policy.return_urls:
        errors["return_url"] = ["Must equal one of the return URLs in the platform's policy (return_urls)."]
    if not principal.policy.notice_version:
        errors["body"] = ["The platform's policy names no notice_version: the page cannot ask for consent. "
                          "An operator sets it with `identity-admin platforms update`."]
    if errors:
        raise ValidationFailed(errors)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    row = VerificationSession(
        id=new_verification_session_id(), platform_id=principal.platform_id, secret_hash=_digest(secret),
        return_url=request.return_url, external_ref=request.external_ref, state=request.state,
        locale=request.locale, status=SESSION_PENDING, expires_at=now + LIFETIME, refused_submissions=0,
        last_error_code=None, account_id=None, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return CreatedSession(row, secret)


def get(session: Session, principal: Principal, session_id: str) -> VerificationSession:
    """The caller's own session; another platform's is answered as one that does not exist."""
    row = session.get(VerificationSession, session_id) if looks_like(PREFIX, session_id) else None
    if row is None or row.platform_id != principal.platform_id:
        raise NotFound("No such verification session.")
    return row


def account_of(session: Session, row: VerificationSession) -> Account | None:
    return None if row.account_id is None else session.get(Account, row.account_id)


def cancel(session: Session, principal: Principal, session_id: str, now: datetime) -> VerificationSession:
    """A pending session ends `canceled`: its link stops working at once. Canceling a canceled one
    changes nothing; one that ended otherwise is a 409."""
    row = lock(session, get(session, principal, session_id).id)
    current = status_of(row, now)
    if current == SESSION_CANCELED:
        return row
    if current != SESSION_PENDING:
        raise Conflict(f"The session has ended ({current}); only a pending session can be canceled.")
    _end(row, SESSION_CANCELED, None, None, now)
    return row


def lock(session: Session, session_id: str) -> VerificationSession:
    """The row, locked until the transaction ends (PostgreSQL; SQLite's write transaction already
    serialises writers), so two submissions of one page cannot both end it."""
    row = session.scalars(select(VerificationSession).where(VerificationSession.id == session_id)
                          .with_for_update().execution_options(populate_existing=True)).one()
    return row


class PageUnavailable(Exception):
    """The page's link does not open a form: `gone` (410, it ended) or not known at all (404)."""

    def __init__(self, gone: bool, status: str | None = None, locale: str = DEFAULT_LOCALE,
                 code: str | None = None) -> None:
        super().__init__("gone" if gone else "not found")
        self.gone, self.status, self.locale, self.code = gone, status, locale, code


@dataclass(frozen=True)
class PageView:
    """What showing the blank form needs: the session and its platform, read in one query."""

    session_id: str
    locale: str
    return_url: str
    platform_name: str
    platform_active: bool
    policy: PlatformPolicy


# Built once, of the tables' columns, and run on the session's connection: building the ORM
# statement and its cache key per call, and the ORM's result setup, were over half of the GET's
# time (bench/README.md, `page_get`). The id is a bound parameter.
_SESSIONS, _PLATFORMS = VerificationSession.__table__.c, Platform.__table__.c
_PAGE_QUERY = (select(_SESSIONS.id, _SESSIONS.secret_hash, _SESSIONS.locale, _SESSIONS.return_url, _SESSIONS.status,
                      _SESSIONS.expires_at, _SESSIONS.last_error_code, _PLATFORMS.name,
                      _PLATFORMS.status.label("platform_status"), _PLATFORMS.policy)
               .join_from(VerificationSession.__table__, Platform.__table__, _PLATFORMS.id == _SESSIONS.platform_id)
               .where(_SESSIONS.id == bindparam("session_id")))


def page_view(session: Session, session_id: str, secret: str, now: datetime) -> PageView:
    """`open_page` for reading only, without loading ORM objects: the GET of a page is its
    hottest path (bench/README.md, `page_get`)."""
    found = session.connection().execute(_PAGE_QUERY, {"session_id": session_id}).first() \
        if looks_like(PREFIX, session_id) else None
    if found is None or not hmac.compare_digest(found.secret_hash, _digest(secret)):
        raise PageUnavailable(gone=False)
    current = SESSION_EXPIRED if found.status == SESSION_PENDING and now >= found.expires_at else found.status
    if current != SESSION_PENDING:
        raise PageUnavailable(gone=True, status=current, locale=found.locale, code=found.last_error_code)
    return PageView(session_id=found.id, locale=found.locale, return_url=found.return_url,
                    platform_name=found.name, platform_active=found.platform_status == "active",
                    policy=PlatformPolicy(**found.policy))


def open_page(session: Session, session_id: str, secret: str, now: datetime, *,
              for_update: bool = False) -> VerificationSession:
    """The pending session this page link opens. The secret is compared in constant time with the
    stored digest; an unknown id and a wrong secret look alike (404). A session that ended, or
    that is past its expiry, is `gone` (410), so the person learns the link no longer works."""
    row = session.get(VerificationSession, session_id) if looks_like(PREFIX, session_id) else None
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
        raise PageUnavailable(gone=False)
    if for_update:
        row = lock(session, row.id)
    current = status_of(row, now)
    if current != SESSION_PENDING:
        raise PageUnavailable(gone=True, status=current, locale=row.locale, code=row.last_error_code)
    return row


def record_refused_submission(session: Session, row: VerificationSession, code: str, now: datetime) -> bool:
    """A submission the person can correct (a field, the name not verified, the age, guardian
    consent). The fifth ends the session `failed` with `too_many_attempts`; True when it did."""
    row.refused_submissions += 1
    if row.refused_submissions >= MAX_REFUSED_SUBMISSIONS:
        _end(row, SESSION_FAILED, TOO_MANY_ATTEMPTS_CODE, None, now)
        _announce(session, row, None, now)
        return True
    row.last_error_code, row.updated_at = code, now
    return False


def complete(session: Session, row: VerificationSession, pseudonym: str, now: datetime) -> None:
    """The account the page opened (named by pseudonym: registration inserts it without an ORM id)."""
    _end(row, SESSION_COMPLETED, None, _account_id(session, row.platform_id, pseudonym), now)
    _announce(session, row, pseudonym, now)


def fail(session: Session, row: VerificationSession, code: str, pseudonym: str | None, now: datetime) -> None:
    """Ended by an outcome no correction changes: `registration_refused`, or `duplicate_identity`
    with the person's existing account on this platform."""
    account_id = None if pseudonym is None else _account_id(session, row.platform_id, pseudonym)
    _end(row, SESSION_FAILED, code, account_id, now)
    _announce(session, row, pseudonym, now)


def _announce(session: Session, row: VerificationSession, pseudonym: str | None, now: datetime) -> None:
    """`verification_session.completed` or `.failed`, in the transaction that ends the session
    (docs/webhooks.md): ids, the pseudonym on this platform, the code; nothing about the person."""
    record_event(session, row.platform_id, f"verification_session.{row.status}", {
        "session": row.id, "status": row.status, "pseudonym": pseudonym, "external_ref": row.external_ref,
        "state": row.state, "code": row.last_error_code, "ended_at": now}, now)


def _account_id(session: Session, platform_id: str, pseudonym: str) -> int | None:
    return session.scalar(select(Account.id).where(Account.pseudonym == pseudonym, Account.platform_id == platform_id))


def _end(row: VerificationSession, status: str, code: str | None, account_id: int | None, now: datetime) -> None:
    row.status, row.last_error_code, row.account_id, row.updated_at = status, code, account_id, now


def ended_before(session: Session, cutoff: datetime, batch: int) -> list[str]:
    """Ids of sessions that ended (or expired) before `cutoff`, for the purge."""
    ended = (VerificationSession.status != SESSION_PENDING) & (VerificationSession.updated_at <= cutoff)
    expired = (VerificationSession.status == SESSION_PENDING) & (VerificationSession.expires_at <= cutoff)
    return list(session.scalars(select(VerificationSession.id).where(ended | expired)
                                .order_by(VerificationSession.id).limit(batch)))
