"""Envelope encryption: vectors, associated-data binding, tampering, key versions."""

from __future__ import annotations

import pytest

from identity.crypto import envelope
from identity.crypto.blind_index import document_index

# NIST GCM specification (McGrew & Viega), test cases 13 and 14: AES-256, zero key and IV.
ZERO_KEY, ZERO_IV = bytes(32), bytes(12)
CASE_13_TAG = bytes.fromhex("530f8afbc74536b9a963b4f1c4cb738b")
CASE_14_CT_TAG = bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18" "d0d1c8a799996bf0265b98b5d48ab919")


def test_opens_the_nist_vectors():
    assert envelope.open_sealed(ZERO_KEY, b"\x01" + ZERO_IV + CASE_13_TAG, b"") == b""
    assert envelope.open_sealed(ZERO_KEY, b"\x01" + ZERO_IV + CASE_14_CT_TAG, b"") == bytes(16)


def test_seal_round_trips_with_a_fresh_nonce_each_time():
    key = envelope.new_key()
    one, two = envelope.seal(key, "张三".encode(), b"aad"), envelope.seal(key, "张三".encode(), b"aad")
    assert one != two and one[0] == 1
    assert envelope.open_sealed(key, one, b"aad").decode() == "张三"


def test_a_ciphertext_moved_to_another_row_or_field_does_not_open():
    key = envelope.new_key()
    blob = envelope.seal(key, b"secret", b"identity/person/1/real_name")
    for aad in (b"identity/person/2/real_name", b"identity/person/1/phone"):
        with pytest.raises(envelope.DecryptionFailed):
            envelope.open_sealed(key, blob, aad)


@pytest.mark.parametrize("position", [0, 1, 13, -1])
def test_any_flipped_byte_is_detected(position):
    key = envelope.new_key()
    blob = bytearray(envelope.seal(key, b"secret", b"a"))
    blob[position] ^= 0x01
    with pytest.raises(envelope.DecryptionFailed):
        envelope.open_sealed(key, bytes(blob), b"a")


def test_wrapped_keys_carry_an_authenticated_version():
    kek, dek = envelope.new_key(), envelope.new_key()
    wrapped = envelope.wrap(kek, 7, dek, b"identity/person/x/dek")
    assert envelope.wrapped_version(wrapped) == 7
    assert envelope.unwrap(kek, wrapped, b"identity/person/x/dek") == dek
    relabelled = wrapped[:1] + (8).to_bytes(4, "big") + wrapped[5:]
    with pytest.raises(envelope.DecryptionFailed):
        envelope.unwrap(kek, relabelled, b"identity/person/x/dek")


def test_decryption_failures_say_nothing():
    with pytest.raises(envelope.DecryptionFailed) as caught:
        envelope.open_sealed(envelope.new_key(), envelope.seal(envelope.new_key(), b"x", b""), b"")
    assert str(caught.value) == "" and caught.value.__cause__ is None


def test_blind_index_is_keyed_hmac_sha256_with_a_label():
    from cryptography.hazmat.primitives import hashes, hmac

    key, material = bytes(range(32)), b'{"number":"X"}'
    check = hmac.HMAC(key, hashes.SHA256())
    check.update(b"identity/blind-index/document/v1\x00" + material)
    assert document_index(key, material) == check.finalize()
    assert document_index(bytes(32), material) != document_index(key, material)
