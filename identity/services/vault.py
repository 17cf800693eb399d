"""The only code that sees identity data in clear.

Envelope encryption: each person has a random 256-bit data key (DEK); their fields are
sealed under it with AES-256-GCM, and the DEK is wrapped by the primary `data` key of the
keyring (the key-encryption key), whose version the wrapped blob records. Associated data
binds every ciphertext to its person and field. The document is also reduced to a keyed
blind index, so the same person is found without decrypting anyone.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from identity.crypto import envelope
from identity.crypto.blind_index import document_index, mismatch_reference
from identity.crypto.keyring import Keyring
from identity.documents import Document
from identity.errors import KeyringError
from identity.models import Person


@dataclass(frozen=True)
class Identity:
    real_name: str
    document: Document
    phone: str | None


def _aad(person_id: uuid.UUID | str, field: str) -> bytes:
    # A str id must be the canonical hyphenated form, which is what formatting a UUID gives.
    return f"identity/person/{person_id}/{field}".encode()


def index_candidates(keyring: Keyring, document: Document) -> dict[int, bytes]:
    """The document's blind index under every usable index key, primary first.

    During an index-key rotation a person's index may be under the old or the new key;
    looking up all of them keeps duplicates and blacklisted people found throughout.
    """
    material = document.index_material()
    return {version: document_index(key, material) for version, key in keyring.versions("index").items()}


def mismatch_references(keyring: Keyring, document: Document) -> dict[int, bytes]:
    """A keyed reference to the document for counting and auditing unverifiable registrations,
    under every usable index key, primary first (like `index_candidates`, so a count survives an
    index-key rotation). Never equal to the blind index itself."""
    material = document.index_material()
    return {version: mismatch_reference(key, material) for version, key in keyring.versions("index").items()}


def _document_json(document: Document) -> bytes:
    fields: dict[str, object] = {
        "type": document.type, "number": document.number, "issuing_country": document.issuing_country,
        "birth_date": document.birth_date.isoformat() if document.birth_date else None}
    if document.sandbox:  # kept with the document, so re-indexing after a key rotation keeps the namespace
        fields["sandbox"] = True
    return json.dumps(fields, separators=(",", ":")).encode()


def _document_from_json(raw: bytes) -> Document:
    data = json.loads(raw)
    birth = data.get("birth_date")
    return Document(type=data["type"], number=data["number"], issuing_country=data.get("issuing_country"),
                    birth_date=date.fromisoformat(birth) if birth else None, sandbox=data.get("sandbox") is True)


def seal_identity(keyring: Keyring, person_id: uuid.UUID, identity: Identity) -> dict[str, Any]:
    """Column values for a new person row: ciphertexts, wrapped DEK and blind index."""
    kek_version, kek = keyring.primary("data")
    index_version, index_key = keyring.primary("index")
    dek = envelope.new_key()
    birth = identity.document.birth_date
    return {
        "dek_wrapped": envelope.wrap(kek, kek_version, dek, _aad(person_id, "dek")),
        "dek_version": kek_version,
        "name_ct": envelope.seal(dek, identity.real_name.encode(), _aad(person_id, "real_name")),
        "document_ct": envelope.seal(dek, _document_json(identity.document), _aad(person_id, "document")),
        "phone_ct": (envelope.seal(dek, identity.phone.encode(), _aad(person_id, "phone"))
                     if identity.phone else None),
        "birth_date_ct": (envelope.seal(dek, birth.isoformat().encode(), _aad(person_id, "birth_date"))
                          if birth else None),
        "doc_index": document_index(index_key, identity.document.index_material()),
        "doc_index_version": index_version,
    }


def _dek(keyring: Keyring, person: Person) -> bytes:
    if person.dek_wrapped is None:
        raise envelope.DecryptionFailed()
    kek = keyring.get("data", envelope.wrapped_version(person.dek_wrapped))
    return envelope.unwrap(kek, person.dek_wrapped, _aad(person.id, "dek"))


def seal_phone(keyring: Keyring, person: Person, phone: str) -> bytes:
    return envelope.seal(_dek(keyring, person), phone.encode(), _aad(person.id, "phone"))


def open_identity(keyring: Keyring, person: Person) -> Identity:
    dek = _dek(keyring, person)
    assert person.name_ct is not None and person.document_ct is not None
    return Identity(
        real_name=envelope.open_sealed(dek, person.name_ct, _aad(person.id, "real_name")).decode(),
        document=open_document(keyring, person, dek=dek),
        phone=(envelope.open_sealed(dek, person.phone_ct, _aad(person.id, "phone")).decode()
               if person.phone_ct else None),
    )


def name_matches(keyring: Keyring, person: Person, real_name: str) -> bool:
    """Whether `real_name` (normalised) is the name held for the person: only the name is decrypted."""
    assert person.name_ct is not None
    held = envelope.open_sealed(_dek(keyring, person), person.name_ct, _aad(person.id, "real_name"))
    return hmac.compare_digest(held, real_name.encode())


def open_document(keyring: Keyring, person: Person, *, dek: bytes | None = None) -> Document:
    assert person.document_ct is not None
    dek = dek or _dek(keyring, person)
    return _document_from_json(envelope.open_sealed(dek, person.document_ct, _aad(person.id, "document")))


def open_birth_date(keyring: Keyring, person: Person) -> date | None:
    if person.birth_date_ct is None:
        return None
    raw = envelope.open_sealed(_dek(keyring, person), person.birth_date_ct, _aad(person.id, "birth_date"))
    return date.fromisoformat(raw.decode())


def shred(person: Person) -> None:
    """Crypto-shredding: without the wrapped DEK no copy of the ciphertexts can be read again."""
    person.dek_wrapped = None
    person.dek_version = None
    person.name_ct = person.document_ct = person.phone_ct = person.birth_date_ct = None
    person.doc_index = None
    person.doc_index_version = None


def reduce_to_trace(person: Person) -> None:
    """Keep only what recognises the person again while a sanction lasts: the blind index, and
    the DEK with the encrypted document so the index can be recomputed when the index key
    rotates. Name, phone and birth date are dropped."""
    person.name_ct = person.phone_ct = person.birth_date_ct = None


def reseal_identity(keyring: Keyring, person: Person, identity: Identity) -> None:
    """A trace registering again: seal name, phone and birth date under the DEK the trace kept.

    The document is the one the trace was found by, so its ciphertext and index stay as they are.
    """
    dek = _dek(keyring, person)
    birth = identity.document.birth_date
    person.name_ct = envelope.seal(dek, identity.real_name.encode(), _aad(person.id, "real_name"))
    person.phone_ct = (envelope.seal(dek, identity.phone.encode(), _aad(person.id, "phone"))
                       if identity.phone else None)
    person.birth_date_ct = (envelope.seal(dek, birth.isoformat().encode(), _aad(person.id, "birth_date"))
                            if birth else None)


# --- Key rotation and verification, over plain column values (batched, no ORM objects) ----------

@dataclass(frozen=True)
class SealedRecord:
    """The ciphertext columns of one person row, as a batch query returns them: each field is
    named after its `persons` column, and a query selects `SEALED_RECORD_COLUMNS` to build one."""

    id: uuid.UUID
    state: str
    dek_wrapped: bytes | None
    dek_version: int | None
    name_ct: bytes | None
    document_ct: bytes | None
    phone_ct: bytes | None
    birth_date_ct: bytes | None
    doc_index: bytes | None
    doc_index_version: int | None


# The `persons` columns to select, in field order, for `SealedRecord(*row)`.
SEALED_RECORD_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SealedRecord))


def _unwrap_dek(keyring: Keyring, person_id: uuid.UUID | str, dek_wrapped: bytes) -> bytes:
    kek = keyring.get("data", envelope.wrapped_version(dek_wrapped))
    return envelope.unwrap(kek, dek_wrapped, _aad(person_id, "dek"))


def rewrap_dek_to(keyring: Keyring, person_id: uuid.UUID | str, dek_wrapped: bytes, version: int) -> bytes:
    """Re-wrap a DEK onto data key `version` (a rotation's target), leaving the sealed fields untouched."""
    aad = _aad(person_id, "dek")
    dek = envelope.unwrap(keyring.get("data", envelope.wrapped_version(dek_wrapped)), dek_wrapped, aad)
    return envelope.wrap(keyring.get("data", version), version, dek, aad)


def reindex_document(keyring: Keyring, person_id: uuid.UUID | str, dek_wrapped: bytes, document_ct: bytes,
                     version: int) -> bytes:
    """The person's document blind index under index key `version`: decrypt the document, HMAC it."""
    dek = _unwrap_dek(keyring, person_id, dek_wrapped)
    document = _document_from_json(envelope.open_sealed(dek, document_ct, _aad(person_id, "document")))
    return document_index(keyring.get("index", version), document.index_material())


def check_record(keyring: Keyring, record: SealedRecord) -> list[str]:
    """What is wrong with one person row, as problem labels (never contents): empty when it is sound.

    The wrapped DEK must open under the data key its header names, which must be `dek_version`;
    every sealed field present must open under the DEK; the stored index must equal the index
    recomputed under `doc_index_version`. Erased rows must hold no ciphertext at all.
    """
    present = {"real_name": record.name_ct, "document": record.document_ct, "phone": record.phone_ct,
               "birth_date": record.birth_date_ct}
    if record.dek_wrapped is None:
        leftovers = [f"{f}: ciphertext without a data key" for f, v in present.items() if v is not None]
        if record.doc_index is not None:
            leftovers.append("dek: missing, so the index cannot be recomputed")
        return leftovers
    problems: list[str] = []
    try:
        if envelope.wrapped_version(record.dek_wrapped) != record.dek_version:
            problems.append("dek: header version differs from dek_version")
        dek = _unwrap_dek(keyring, record.id, record.dek_wrapped)
    except (envelope.DecryptionFailed, KeyringError):
        return [*problems, "dek: does not unwrap"]
    if record.state == "active" and (record.name_ct is None or record.document_ct is None):
        problems.append("fields: name or document missing")
    document: Document | None = None
    for field_name, blob in present.items():
        if blob is None:
            continue
        try:
            plain = envelope.open_sealed(dek, blob, _aad(record.id, field_name))
            if field_name == "document":
                document = _document_from_json(plain)
        except (envelope.DecryptionFailed, ValueError, KeyError):
            problems.append(f"{field_name}: does not decrypt")
    if record.doc_index is not None:
        if document is None:
            problems.append("index: no readable document to check it against")
        elif record.doc_index_version is None:
            problems.append("index: no version recorded")
        else:
            try:
                expected = document_index(keyring.get("index", record.doc_index_version),
                                          document.index_material())
            except KeyringError:
                problems.append("index: its key version is not in the keyring")
            else:
                if not hmac.compare_digest(expected, record.doc_index):
                    problems.append("index: differs from the document")
    return problems
