"""vault: identity sealed under a person's own key opens again, only for that person's row, under any
usable key version; plaintext never appears in what is stored."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from identity.crypto import envelope
from identity.documents import Document
from identity.models import Person
from identity.services import vault
from tests.support.people import resident_id

NUMBER = resident_id(birth=date(1990, 5, 17))
IDENTITY = vault.Identity(real_name="张三", document=Document(type="cn_resident_id", number=NUMBER,
                                                              issuing_country=None, birth_date=date(1990, 5, 17)),
                          phone="+8613800138000")


def sealed_person(keyring, person_id=None) -> Person:
    person_id = person_id or uuid.uuid4()
    return Person(id=person_id, **vault.seal_identity(keyring, person_id, IDENTITY))


def test_a_sealed_identity_opens_to_what_went_in(keyring):
    person = sealed_person(keyring)
    assert vault.open_identity(keyring, person) == IDENTITY
    assert vault.open_birth_date(keyring, person) == date(1990, 5, 17)
    assert vault.name_matches(keyring, person, "张三") and not vault.name_matches(keyring, person, "李四")


def test_what_is_stored_holds_no_plaintext(keyring):
    columns = vault.seal_identity(keyring, uuid.uuid4(), IDENTITY)
    stored = b"".join(v for v in columns.values() if isinstance(v, bytes))
    for secret in ("张三".encode(), NUMBER.encode(), b"13800138000", b"1990-05-17"):
        assert secret not in stored
    assert columns["dek_version"] == 2 and columns["doc_index_version"] == 2  # the primary versions


def test_a_ciphertext_moved_to_another_persons_row_does_not_open(keyring):
    one, other = sealed_person(keyring), sealed_person(keyring)
    other.name_ct = one.name_ct
    with pytest.raises(envelope.DecryptionFailed):
        vault.open_identity(keyring, other)


def test_the_document_is_found_under_every_index_version_and_after_reindexing(keyring):
    person = sealed_person(keyring)
    candidates = vault.index_candidates(keyring, IDENTITY.document)
    assert list(candidates) == [2, 1] and candidates[2] == person.doc_index
    assert vault.reindex_document(keyring, person.id, person.dek_wrapped, person.document_ct, 1) == candidates[1]


def test_a_dek_rewrapped_to_an_older_data_key_still_opens_the_identity(keyring):
    person = sealed_person(keyring)
    person.dek_wrapped = vault.rewrap_dek_to(keyring, person.id, person.dek_wrapped, 1)
    assert envelope.wrapped_version(person.dek_wrapped) == 1
    assert vault.open_identity(keyring, person) == IDENTITY
    assert vault.check_record(keyring, vault.SealedRecord(
        person.id, "active", person.dek_wrapped, 1, person.name_ct, person.document_ct, person.phone_ct,
        person.birth_date_ct, person.doc_index, 2)) == []
