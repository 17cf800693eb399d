"""Single-step rotations under the keys lock: a new signing key, and a new root key for the keyring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.crypto.root_keys import RootKeys, fingerprint, load_root_keys, prepend_root_key
from identity.models import KeyVersion
from identity.models.keyring import KEY_PRIMARY
from identity.services import audit, maintenance_lock
from identity.services.key_rotation.common import keyring_now
from identity.services.keyring import KeyringCache, add_key_version, reencrypt_keyring
from identity.services.maintenance_lock import UnitOfWork
from identity.services.signing import PUBLICATION_WINDOW


@dataclass(frozen=True)
class SigningRotation:
    version: int
    previous: int | None
    previous_verifies_until: datetime | None


# A demoted signing key's last token was signed before its successor's created_at, lives at most
# this long, and is accepted for the verifiers' leeway after its `exp`: the JWKS publishes the key
# until then (`services.signing.load_signing_keys`), so it must not be destroyed any sooner.
SIGNING_WINDOW = PUBLICATION_WINDOW  # how long a replaced signing key stays in the JWKS


def rotate_signing(uow: UnitOfWork, cache: KeyringCache, *, owner: str, actor: str,
                   now: datetime | None = None) -> SigningRotation:
    """A new primary signing key; the old one still verifies (and stays in the JWKS) until its tokens expire."""
    with maintenance_lock.held(uow, maintenance_lock.KEYS_LOCK, owner):
        with uow() as session:
            previous = session.scalar(select(KeyVersion.version).where(KeyVersion.kind == "signing",
                                                                       KeyVersion.state == KEY_PRIMARY))
            audit.record(session, keyring_now(cache, session), actor=actor, action="keys.rotation_started",
                         details={"kind": "signing", "previous": previous}, now=now)
            key = add_key_version(session, cache.root_keys, "signing", primary=True, now=now)
            until = key.created_at + SIGNING_WINDOW
            audit.record(session, keyring_now(cache, session), actor=actor, action="keys.rotation_finished",
                         details={"kind": "signing", "version": key.version, "previous": previous}, now=now)
            return SigningRotation(key.version, previous, until if previous is not None else None)


@dataclass(frozen=True)
class RootRotation:
    root_key_id: str       # fingerprint of the new root key: names it, reveals nothing
    file: Path
    lines: int
    reencrypted: int
    staged_only: bool
    resumed: bool


def _keyring_under_current(session: Session, root_keys: RootKeys) -> bool:
    blobs = session.scalars(select(KeyVersion.material_ct).where(KeyVersion.material_ct.is_not(None)))
    return all(root_keys.made_with_current(b) for b in blobs if b is not None)


def rotate_root(uow: UnitOfWork, cache: KeyringCache, root_key_file: Path, *, owner: str, actor: str,
                stage_only: bool = False) -> RootRotation:
    """Add a new root key as the file's first line, then re-encrypt the keyring under it.

    Resumable: when the keyring is not yet all under the file's first line (a run that
    stopped after writing the file, or `--stage`), no other key is added; the keyring is
    re-encrypted under the first line already there.
    """
    with maintenance_lock.held(uow, maintenance_lock.KEYS_LOCK, owner):
        root_keys = load_root_keys(root_key_file)
        with uow() as session:
            resumed = not _keyring_under_current(session, root_keys)
            if not resumed:
                audit.record(session, keyring_now(cache, session), actor=actor, action="keys.rotation_started",
                             details={"kind": "root", "previous_root_key_id": fingerprint(root_keys.current).hex()})
        if not resumed:
            root_keys = prepend_root_key(root_key_file)
        key_id = fingerprint(root_keys.current).hex()
        if stage_only:
            return RootRotation(key_id, root_key_file, len(root_keys.keys), 0, True, resumed)
        with uow() as session:
            changed = reencrypt_keyring(session, root_keys)
            # This process reloads its keyring under the new file at once; others do on their next
            # request, through the `keys` epoch that `reencrypt_keyring` bumped.
            audit.record(session, keyring_now(cache, session), actor=actor, action="keys.rotation_finished",
                         details={"kind": "root", "root_key_id": key_id, "reencrypted": changed})
        return RootRotation(key_id, root_key_file, len(root_keys.keys), changed, False, resumed)
