"""AES-256-GCM envelopes with a format byte, a key version, and associated data.

Two shapes:
- a *field* sealed under a person's data key: `0x01 | nonce(12) | ciphertext+tag`;
- a *wrapped key* sealed under a versioned key: `0x01 | version(4, big-endian) | nonce(12) | ciphertext+tag`.

Associated data is supplied by the caller and binds a ciphertext to its row and field, so a
ciphertext copied onto another row or column fails to decrypt instead of lying.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_V1 = 1
NONCE_BYTES = 12
KEY_BYTES = 32
_VERSION = struct.Struct(">I")


class DecryptionFailed(Exception):
    """The ciphertext is malformed, was made for other associated data, or the key is wrong.

    Deliberately carries no detail: callers report the record id, never its contents.
    """


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return bytes([FORMAT_V1]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != FORMAT_V1:
        raise DecryptionFailed()
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionFailed() from None


def wrap(key: bytes, version: int, secret: bytes, aad: bytes) -> bytes:
    """Seal `secret` under `key`, recording `version` in clear so the reader knows which key to use."""
    header = bytes([FORMAT_V1]) + _VERSION.pack(version)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(key).encrypt(nonce, secret, header + aad)


def wrapped_version(blob: bytes) -> int:
    if len(blob) < 5 or blob[0] != FORMAT_V1:
        raise DecryptionFailed()
    return int(_VERSION.unpack_from(blob, 1)[0])


def unwrap(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Open a wrapped key; the version header is authenticated too."""
    header, rest = blob[:5], blob[5:]
    if len(rest) < NONCE_BYTES + 16 or header[:1] != bytes([FORMAT_V1]):
        raise DecryptionFailed()
    try:
        return AESGCM(key).decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], header + aad)
    except InvalidTag:
        raise DecryptionFailed() from None
