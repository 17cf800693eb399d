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


def load_root_keys(path: Path) -> RootKeys:
    try:
        return parse_root_key_file(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        raise KeyringError(f"root key file {path} does not exist") from None


def write_key_file_atomically(path: Path, keys: list[bytes]) -> None:
    """Replace the file in one rename, created 0600, so no reader ever sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(base64.b64encode(k).decode("ascii") + "\n" for k in keys)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".root.keys.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate_root_key_file(path: Path) -> RootKeys:
    """Create a development root key file where none exists (refuses to overwrite one)."""
    key = new_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(key).decode("ascii") + "\n")
    return RootKeys((key,))


def prepend_root_key(path: Path) -> RootKeys:
    """Add a new root key as the first line, keeping the others so running processes still decrypt."""
    existing = load_root_keys(path)
    keys = [new_key(), *existing.keys]
    write_key_file_atomically(path, keys)
    return RootKeys(tuple(keys))


__all__ = ["DecryptionFailed", "RootKeys", "generate_root_key_file", "load_root_keys", "prepend_root_key"]
