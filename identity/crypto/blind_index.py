"""Keyed blind indexes: equality search over documents without decrypting them.

HMAC-SHA256 under a versioned index key, with a domain-separation label so the same key
could never produce a value that collides with another use.
"""

import hashlib
import hmac

_DOCUMENT_LABEL = b"identity/blind-index/document/v1\x00"
_REQUEST_LABEL = b"identity/idempotency/request/v1\x00"
# Counting unverifiable registrations of a document: a label of its own, so the reference in
# the audit log and the mismatch counts never equals (or joins to) the person's blind index.
_MISMATCH_LABEL = b"identity/blind-index/mismatch-document/v1\x00"


def document_index(key: bytes, material: bytes) -> bytes:
    return hmac.new(key, _DOCUMENT_LABEL + material, hashlib.sha256).digest()


def request_index(key: bytes, material: bytes) -> bytes:
    """An `Idempotency-Key` request's fingerprint: its body holds names and ID numbers, so an
    unkeyed hash of it would be as searchable as the document itself."""
    return hmac.new(key, _REQUEST_LABEL + material, hashlib.sha256).digest()
def mismatch_reference(key: bytes, material: bytes) -> bytes:
    return hmac.new(key, _MISMATCH_LABEL + material, hashlib.sha256).digest()
