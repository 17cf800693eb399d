"""The keyring as stored: key versions encrypted under the root key, and a per-process cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from identity.clock import utc_now
from identity.crypto.envelope import new_key
from identity.crypto.keyring import Keyring
from identity.crypto.root_keys import RootKeys
from identity.errors import KeyringError
from identity.models import KEY_KINDS, KeyVersion
from identity.models.keyring import KEY_ACTIVE, KEY_PRIMARY, KEY_RETIRED
from identity.services import epochs
from identity.services.epoch_cache import EpochValue


def _aad(kind: str, version: int) -> bytes:
    return f"identity/keyring/{kind}/{version}".encode()


def new_material(kind: str) -> bytes:
    if kind == "signing":
        return Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return new_key()


def load_keyring(session: Session, root_keys: RootKeys) -> Keyring:
    keyring = Keyring()
    rows = session.scalars(select(KeyVersion).where(KeyVersion.state != KEY_RETIRED))
    for row in rows:
        assert row.material_ct is not None
        material = root_keys.decrypt(row.material_ct, _aad(row.kind, row.version))
        keyring.add(row.kind, row.version, material, primary=row.state == KEY_PRIMARY)
    return keyring


def add_key_version(session: Session, root_keys: RootKeys, kind: str, *, primary: bool,
                    now: datetime | None = None) -> KeyVersion:
    """Create the next version of `kind`; when primary, the previous primary becomes active.

    Bumps the `keys` epoch so every process reloads the keyring on its next request.
    """
    if kind not in KEY_KINDS:
        raise ValueError(f"unknown key kind {kind}")
    latest = session.scalar(select(func.max(KeyVersion.version)).where(KeyVersion.kind == kind)) or 0
    version = latest + 1
    if primary:
        for old in session.scalars(select(KeyVersion).where(KeyVersion.kind == kind,
                                                            KeyVersion.state == KEY_PRIMARY)):
            old.state = KEY_ACTIVE
    row = KeyVersion(kind=kind, version=version, state=KEY_PRIMARY if primary else KEY_ACTIVE,
                     material_ct=root_keys.encrypt(new_material(kind), _aad(kind, version)),
                     created_at=now or utc_now())
    session.add(row)
    session.flush()
    epochs.bump(session, "keys")
    return row


def ensure_initial_keys(session: Session, root_keys: RootKeys) -> list[str]:
    """Give every kind a primary key if it has none; returns the kinds created."""
    have = set(session.scalars(select(KeyVersion.kind).where(KeyVersion.state == KEY_PRIMARY)))
    created = []
    for kind in KEY_KINDS:
        if kind not in have:
            add_key_version(session, root_keys, kind, primary=True)
            created.append(kind)
    return created


def reencrypt_keyring(session: Session, root_keys: RootKeys) -> int:
    """Re-encrypt every stored key under the current root key; returns how many changed."""
    changed = 0
    for row in session.scalars(select(KeyVersion).where(KeyVersion.material_ct.is_not(None))):
        assert row.material_ct is not None
        if root_keys.made_with_current(row.material_ct):
            continue
        material = root_keys.decrypt(row.material_ct, _aad(row.kind, row.version))
        row.material_ct = root_keys.encrypt(material, _aad(row.kind, row.version))
        changed += 1
    session.flush()
    if changed:
        epochs.bump(session, "keys")
    return changed


class KeyringCache(EpochValue[Keyring]):
    """One decrypted keyring per process, reloaded when the `keys` epoch moves: `get(epoch, session)`.

    With `reload_root_keys`, a keyring that no longer opens under the root keys in memory
    (a root rotation re-encrypted it under a key added to the file since this process
    started) makes the cache read the root key file again once, so running processes keep
    serving through a root rotation without a restart.
    """

    def __init__(self, root_keys: RootKeys, reload_root_keys: Callable[[], RootKeys] | None = None) -> None:
        super().__init__(self._load_keyring)
        self._root_keys = root_keys
        self._reload_root_keys = reload_root_keys

    @property
    def root_keys(self) -> RootKeys:
        return self._root_keys

    def _load_keyring(self, session: Session) -> Keyring:
        try:
            return load_keyring(session, self._root_keys)
        except KeyringError:
            if self._reload_root_keys is None:
                raise
            self._root_keys = self._reload_root_keys()
            return load_keyring(session, self._root_keys)
