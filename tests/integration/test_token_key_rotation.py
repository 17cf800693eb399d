"""Signing-key rotation: old tokens keep verifying until they have all expired, then the old
key leaves the JWKS. Rotates through `add_key_version`, as `identity-admin keys rotate signing` does."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from realname_identity_client import InvalidToken, TokenVerifier
from sqlalchemy import select

from identity.cli.command_boundary import keyring, runtime
from identity.extensions import db
from identity.models import KeyVersion
from identity.models.token import MAX_TOKEN_TTL_SECONDS
from identity.services import epochs
from identity.services.keyring import add_key_version
from identity.services.signing import LEEWAY_SECONDS, load_signing_keys
from tests.support.people import register
from tests.support.tokens import FlaskHttp, header_of, introspect, issue


def _rotate(app) -> datetime:  # type: ignore[no-untyped-def]
    """The new key's created_at."""
    with app.app_context():
        row = add_key_version(db.session(), runtime().root_keys, "signing", primary=True)
        created_at = row.created_at
        db.session.commit()
        return created_at


def _kids(client) -> list[str]:  # type: ignore[no-untyped-def]
    return [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]


def test_rotation_keeps_old_tokens_valid_until_they_expire_then_drops_the_old_key(client, auth, app, platform,
                                                                                   clock):
    pseudonym = register(client, auth)
    old_token = issue(client, auth, pseudonym, ttl_seconds=MAX_TOKEN_TTL_SECONDS)["token"]
    old_kid = header_of(old_token)["kid"]
    verifier = TokenVerifier("http://id.test/.well-known/jwks.json", issuer=app.extensions["identity"].settings.issuer,
                             audience=platform, http=FlaskHttp(client), clock=clock.timestamp)
    assert verifier.verify(old_token).sub == pseudonym  # the verifier now caches the old key set

    rotated_at = _rotate(app)
    clock.advance(1)
    new_token = issue(client, auth, pseudonym)["token"]
    new_kid = header_of(new_token)["kid"]
    assert new_kid != old_kid
    assert _kids(client) == [new_kid, old_kid]  # primary first; the old key is still published

    # Offline: the new kid is unknown to the cached set, so the verifier refetches once.
    clock.advance(verifier.jwks.min_refresh_interval)
    assert verifier.verify(new_token).sub == pseudonym
    assert verifier.verify(old_token).sub == pseudonym
    # Online: both introspect as active.
    assert introspect(client, auth, old_token)["active"] is True
    assert introspect(client, auth, new_token)["active"] is True

    # The old key's last token was signed before the new key's created_at: once that token's
    # longest life (and the leeway) has passed, the old key leaves the JWKS.
    leaves_at = rotated_at + timedelta(seconds=MAX_TOKEN_TTL_SECONDS + LEEWAY_SECONDS)
    clock.set(leaves_at - timedelta(seconds=1))
    assert old_kid in _kids(client)
    clock.set(leaves_at)
    assert _kids(client) == [new_kid]
    assert introspect(client, auth, old_token) == {"active": False}
    with pytest.raises(InvalidToken):
        verifier.verify(old_token)


def test_the_signing_key_set_at_service_level(app):
    """Without HTTP: the window is computed from key rows, and the JWKS bytes change only with the set."""
    with app.app_context():
        before = load_signing_keys(db.session(), keyring())
        (only,) = before._keys
        assert only.published_until is None
        add_key_version(db.session(), runtime().root_keys, "signing", primary=True)
        db.session.flush()
        epochs.bump(db.session(), "keys")
        after = load_signing_keys(db.session(), runtime().keyring_cache.get(
            epochs.read_epochs(db.session())["keys"], db.session()))
        created = db.session.scalar(select(KeyVersion.created_at).where(KeyVersion.kind == "signing",
                                                                        KeyVersion.state == "primary"))
        old = next(k for k in after._keys if k.kid == only.kid)
        assert old.published_until == created + timedelta(seconds=MAX_TOKEN_TTL_SECONDS + LEEWAY_SECONDS)
        assert after.primary.kid != only.kid
        inside, outside = created + timedelta(seconds=10), old.published_until
        assert after.jwks(inside).etag == after.jwks(inside + timedelta(seconds=5)).etag
        assert after.jwks(inside).etag != after.jwks(outside).etag
        assert after.verifying_key(only.kid, inside) is not None
        assert after.verifying_key(only.kid, outside) is None
        db.session.rollback()
