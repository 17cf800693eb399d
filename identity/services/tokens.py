"""Pseudonymous tokens: issue, introspect (RFC 7662), revoke (RFC 7009).

Issuing and introspecting are hot paths. Neither decrypts identity data nor writes to the
database: what they need about an account (platform, person, status, level, adult, the scope
its active sanctions leave) is read once and cached per process in `AccountStateCache`, and a
verified token's claims in `IntrospectionCache`. Both caches are dropped when the `access`
epoch moves (a token revoked, an account closed, a sanction filed, lifted or widened: every
such change bumps it in its own transaction, a group's closure included), and every entry also
ends by the clock at the earliest moment its answer could change without anyone writing
(`accounts.cached_state_valid_until`, the rule account views follow too).

Issuing is not written to the audit log: it changes no stored state, and the token is
self-describing (its jti, subject, audience and lifetime are in it). Revocation changes state
and is audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identity.crypto.keyring import Keyring
from identity.errors import AccountRestricted, NotFound
from identity.ids import looks_like
from identity.models import Account, Person, Platform, RevokedToken
from identity.models.person import ACCOUNT_CLOSED
from identity.services import accounts, audit, credit, epochs, sanctions
from identity.services.authentication import Principal
from identity.services.epoch_cache import EpochCache
from identity.services.platforms import policy_of
from identity.services.signing import LEEWAY_SECONDS, SigningKeys, b64url

DEFAULT_TTL_SECONDS = 900
MIN_TTL_SECONDS = 60
MAX_TOKEN_LENGTH = 4096  # ours are ~550 bytes; anything far longer is not worth parsing
REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"]



@dataclass(frozen=True)
class AccountState:
    """What tokens need to know about an account; nothing here is identity data."""

    platform_id: str
    closed: bool
    level: str
    adult: bool
    scope: tuple[str, ...]

    @property
    def bars_posting(self) -> bool:
        return "post" not in self.scope


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature, issuer, audience, claim types and revocation were checked."""

    claims: dict[str, Any]
    exp: int
    nbf: int
    iat: int


class TokenCaches:
    """The per-process caches of the token use cases."""

    def __init__(self) -> None:
        self.accounts: EpochCache[str, AccountState] = EpochCache()
        # Keyed by the whole token, not its jti: a forged token reusing a known jti must not
        # ride on the entry of the genuine one.
        self.introspection: EpochCache[str, VerifiedToken] = EpochCache()


def load_account_state(session: Session, keyring: Keyring, pseudonym: str,
                       now: datetime) -> tuple[AccountState, datetime] | None:
    """The account's token-relevant state and the moment it may next change by the clock."""
    row = session.execute(select(Account, Person).join(Person, Account.person_id == Person.id)
                          .where(Account.pseudonym == pseudonym)).first()
    if row is None:
        return None
    account, person = row
    active = sanctions.active_on_platform(session, person.id, account.platform_id, now)
    # `adult` is stored once true; only a minor's birth date is opened, once per cache entry.
    adult = accounts.is_adult(keyring, person, now.date())
    scope = sanctions.permissions_after(active)
    standing = credit.credit_of(session, person.id, account.platform_id, now)
    valid_until = accounts.cached_state_valid_until(now, adult=adult, restrictions=active,
                                                    credit_changes_at=standing.changes_at)
    if standing.changes_at is not None:  # penalised: the platform's threshold decides `group:create`
        platform = session.get(Platform, account.platform_id)
        assert platform is not None
        if standing.score < policy_of(platform).min_credit_to_found:
            scope = [p for p in scope if p != "group:create"]
    state = AccountState(platform_id=account.platform_id, closed=account.status == ACCOUNT_CLOSED,
                         level=account.verification_level, adult=adult, scope=tuple(scope))
    return state, valid_until


def account_state(session: Session, keyring: Keyring, caches: TokenCaches, pseudonym: str,
                  current: epochs.Epochs, now: datetime) -> AccountState | None:
    epoch = current.get("access", 0)
    state = caches.accounts.get(pseudonym, epoch, now)
    if state is not None:
        return state
    loaded = load_account_state(session, keyring, pseudonym, now)
    if loaded is None:
        return None  # not cached: a registration does not bump `access`, so a miss must be re-asked
    caches.accounts.put(pseudonym, loaded[0], epoch, loaded[1])
    return loaded[0]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


def issue(session: Session, keyring: Keyring, caches: TokenCaches, signing: SigningKeys, *, issuer: str,
          principal: Principal, pseudonym: str, ttl_seconds: int, current: epochs.Epochs,
          now: datetime) -> IssuedToken:
    """Sign a token for one of the caller's accounts, carrying the scope its sanctions leave."""
    if not looks_like("psn_", pseudonym):
        raise NotFound("No such account.")
    state = account_state(session, keyring, caches, pseudonym, current, now)
    if state is None or state.platform_id != principal.platform_id:
        raise NotFound("No such account.")  # another platform's pseudonym is one that does not exist
    if state.closed:
        raise AccountRestricted("The account is closed.")
    if state.bars_posting:
        raise AccountRestricted("An active sanction bars this account from posting.")
    issued_at = int(now.timestamp())
    jti = b64url(secrets.token_bytes(16))
    claims = {
        "iss": issuer, "sub": pseudonym, "aud": principal.platform_id,
        "iat": issued_at, "nbf": issued_at, "exp": issued_at + ttl_seconds, "jti": jti,
        "rnv": True, "lvl": state.level, "adult": state.adult, "scope": " ".join(state.scope),
    }
    if principal.sandbox:  # only a sandbox's tokens carry the claim: a posting service can refuse them
        claims["sandbox"] = True
    token = signing.primary.sign(claims)
    return IssuedToken(token=token, jti=jti, expires_at=datetime.fromtimestamp(issued_at + ttl_seconds, UTC))


def _well_typed(claims: dict[str, Any]) -> bool:
    ints = all(isinstance(claims.get(c), int) and not isinstance(claims.get(c), bool) for c in ("iat", "nbf", "exp"))
    strings = all(isinstance(claims.get(c), str) for c in ("sub", "aud", "jti", "lvl", "scope"))
    flags = all(isinstance(claims.get(c), bool) for c in ("rnv", "adult"))
    return ints and strings and flags and len(claims["jti"]) <= 64


def verify_signed(token: str, signing: SigningKeys, *, issuer: str, audience: str,
                  now: datetime) -> VerifiedToken | None:
    """Signature (EdDSA only, a published kid only), issuer, audience and claim types; not time."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        key = signing.verifying_key(kid, now) if isinstance(kid, str) else None
        if key is None or header.get("alg") != "EdDSA" or "crit" in header:
            return None
        # Times are checked by the caller against the service's clock (injectable in tests).
        claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=audience, issuer=issuer,
                            options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_nbf": False,
                                     "verify_iat": False})
    except jwt.PyJWTError:
        return None
    if not _well_typed(claims):
        return None
    return VerifiedToken(claims=claims, exp=claims["exp"], nbf=claims["nbf"], iat=claims["iat"])


def _live_at(verified: VerifiedToken, now: datetime) -> bool:
    moment = now.timestamp()
    return (verified.nbf - LEEWAY_SECONDS <= moment < verified.exp + LEEWAY_SECONDS
            and verified.iat <= moment + LEEWAY_SECONDS)


def _is_revoked(session: Session, jti: str) -> bool:
    return session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti)) is not None


def introspect(session: Session, keyring: Keyring, caches: TokenCaches, signing: SigningKeys, *, issuer: str,
               principal: Principal, token: str, current: epochs.Epochs, now: datetime) -> dict[str, Any] | None:
    """The token's claims with `scope` as it stands now, or None for every kind of inactive token.

    All inactive answers are the same `None`, whatever the reason, so a caller learns nothing
    from the difference (another platform's token looks exactly like a forged one).
    """
    epoch = (current.get("access", 0), current.get("keys", 0))
    verified = caches.introspection.get(token, epoch, now)
    if verified is None:
        verified = verify_signed(token, signing, issuer=issuer, audience=principal.platform_id, now=now)
        if verified is None or _is_revoked(session, verified.claims["jti"]):
            return None
        caches.introspection.put(token, verified, epoch,
                                 datetime.fromtimestamp(verified.exp + LEEWAY_SECONDS, UTC))
    claims = verified.claims
    if claims["aud"] != principal.platform_id or not _live_at(verified, now):
        return None
    state = account_state(session, keyring, caches, claims["sub"], current, now)
    if state is None or state.closed or state.platform_id != principal.platform_id:
        return None
    answer = {"active": True, "sub": claims["sub"], "aud": claims["aud"], "exp": verified.exp,
              "iat": verified.iat, "jti": claims["jti"], "rnv": claims["rnv"], "lvl": claims["lvl"],
              "adult": claims["adult"], "scope": " ".join(state.scope)}
    if claims.get("sandbox") is True:
        answer["sandbox"] = True
    return answer


def revoke(session: Session, keyring: Keyring, signing: SigningKeys, *, issuer: str, principal: Principal,
           token: str, now: datetime) -> bool:
    """Revoke one of the caller's own live tokens; True when this call revoked it.

    Anything else (expired, forged, another platform's, already revoked) has no effect, and
    the caller is answered the same either way (RFC 7009). The jti is kept until the token
    would have expired (plus leeway); expired rows are deleted here, opportunistically.
    """
    verified = verify_signed(token, signing, issuer=issuer, audience=principal.platform_id, now=now)
    if verified is None or verified.exp + LEEWAY_SECONDS <= now.timestamp():
        return False
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    jti = verified.claims["jti"]
    try:
        with session.begin_nested():
            session.add(RevokedToken(jti=jti, platform_id=principal.platform_id,
                                     expires_at=datetime.fromtimestamp(verified.exp + LEEWAY_SECONDS, UTC)))
            session.flush()
    except IntegrityError:
        return False  # already revoked, by this request's twin or earlier
    epochs.bump(session, "access")  # every process drops its cached "active" answers at once
    audit.record(session, keyring, actor=principal.actor, action="token.revoked", subject=jti,
                 details={"platform": principal.platform_id, "pseudonym": verified.claims["sub"]}, now=now)
    return True
