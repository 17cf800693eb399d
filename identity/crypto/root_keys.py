"""The root keys that encrypt the keyring.

The root key file holds one base64 32-byte key a line, newest first: the first encrypts, any
may decrypt. Each ciphertext names the root key that made it by a short fingerprint, so a
reader does not have to try every line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from identity.crypto.envelope import KEY_BYTES, DecryptionFailed, new_key, open_sealed, seal
from identity.errors import KeyringError

FINGERPRINT_BYTES = 8


def fingerprint(key: bytes) -> bytes:
    return hashlib.sha256(b"identity/root-key-id\x00" + key).digest()[:FINGERPRINT_BYTES]


@dataclass(frozen=True)
class RootKeys:
    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("the root key file holds no key")

    @property
    def current(self) -> bytes:
        return self.keys[0]

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        return fingerprint(self.current) + seal(self.current, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        wanted = blob[:FINGERPRINT_BYTES]
        for key in self.keys:
            if fingerprint(key) == wanted:
                return open_sealed(key, blob[FINGERPRINT_BYTES:], aad)
        raise KeyringError("no root key in the root key file matches the keyring; "
                           "was a root key line removed before every process restarted?")

    def made_with_current(self, blob: bytes) -> bool:
        return blob[:FINGERPRINT_BYTES] == fingerprint(self.current)


def parse_root_key_file(text: str) -> RootKeys:
    keys: list[bytes] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"root key file line {number} is not base64") from None
        if len(key) != KEY_BYTES:
            raise KeyringError(f"root key file line {number} is not a 32-byte key")
        keys.append(key)
    return RootKeys(tuple(keys))


# Group and other permission bits: a root key file open to anyone but its owner is refused,
# as ssh refuses a private key others can read.
OPEN_TO_OTHERS = 0o077


def load_root_keys(path: Path) -> RootKeys:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyringError(f"root key file {path} does not exist") from None
    if mode & OPEN_TO_OTHERS:
        raise KeyringError(f"root key file {path} is open to group or others (mode {stat.S_IMODE(mode):04o}); "
                           f"run `chmod 600 {path}`")
    return parse_root_key_file(path.read_text(encoding="ascii"))


def _key_file_body(keys: list[bytes]) -> str:
    return "".join(base64.b64encode(k).decode("ascii") + "\n" for k in keys)


def _write_private_temp_file(folder: Path, body: str) -> str:
    """A new file beside the target, 0600 from its creation, its content on disk before it is named."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".root.keys.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _fsync_folder(folder: Path) -> None:
    """Make a rename or link durable: without it a power cut may forget the new name, while the
    database already holds a keyring re-encrypted under the key that name points to."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_key_file_atomically(path: Path, keys: list[bytes]) -> None:
    """Replace the file in one rename, created 0600, so no reader ever sees half a file and a
    power cut leaves either the old file or the new one, both complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_private_temp_file(path.parent, _key_file_body(keys))
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def generate_root_key_file(path: Path) -> RootKeys:
    """Create a development root key file where none exists (FileExistsError if one does).

    Written like a rotation's file (0600, fsynced, then named), but named with link(), which
    refuses an existing name: two processes starting at once cannot replace each other's key.
    """
    key = new_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_private_temp_file(path.parent, _key_file_body([key]))
    try:
        os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    _fsync_folder(path.parent)
    return RootKeys((key,))


def prepend_root_key(path: Path) -> RootKeys:
    """Add a new root key as the first line, keeping the others so running processes still decrypt."""
    existing = load_root_keys(path)
    keys = [new_key(), *existing.keys]
    write_key_file_atomically(path, keys)
    return RootKeys(tuple(keys))


__all__ = ["DecryptionFailed", "RootKeys", "generate_root_key_file", "load_root_keys", "prepend_root_key"]
