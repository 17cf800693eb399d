"""What someone holding the database and every key the service holds could read of one person.

The erasure tests play that attacker: they take every key the root key file opens (every
keyring row of every kind and version, plus any old copy of a keyring row still lying in the
bytes they are given), unwrap every data key those open, and try all of them on every byte
that could begin an envelope, in every blob of every table and in the raw SQLite files.

A field is tried without its tag or associated data: AES-GCM is AES-CTR with the counter
starting at `nonce || 2`, so decrypting the bytes after any `0x01 | nonce` with a key shows the
plaintext whatever the envelope's length or the row it was sealed for. That finds any remnant
a key could open, including a truncated one. Wrapped data keys are unwrapped properly (tag and
associated data) for every person id the database names.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, MetaData, select
from sqlalchemy.engine import Connection

from identity.crypto.blind_index import document_index
from identity.crypto.envelope import DecryptionFailed
from identity.crypto.root_keys import FINGERPRINT_BYTES, RootKeys, fingerprint
from identity.documents import Document
from identity.errors import KeyringError
from identity.models import KEY_KINDS

FORMAT = 0x01
NONCE = 12
TAG = 16
KEY = 32
WRAPPED_KEY = 1 + 4 + NONCE + KEY + TAG       # a wrapped data key
SEALED_KEY = FINGERPRINT_BYTES + 1 + NONCE + KEY + TAG  # a keyring row's material under a root key
PLAINTEXT_WINDOW = 160                        # longer than any sealed field


def encodings_of(text: str) -> list[bytes]:
    """`text` in every encoding a file could plausibly hold it in."""
    found = []
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "gb18030", "big5", "gbk"):
        try:
            found.append(text.encode(encoding))
        except UnicodeEncodeError:
            continue
    return list(dict.fromkeys(found))


@dataclass
class Person:
    real_name: str
    document: Document
    phone: str | None

    def needles(self) -> dict[str, bytes]:
        found = {"real_name": self.real_name.encode(), "document number": self.document.number.encode()}
        if self.phone:
            found["phone"] = self.phone.lstrip("+").encode()
        return found


@dataclass
class Haul:
    """Everything recovered: keys, and what of the person was found where."""

    keys: dict[str, bytes] = field(default_factory=dict)    # label -> key material
    findings: list[str] = field(default_factory=list)

    def add_key(self, label: str, key: bytes) -> None:
        if key not in self.keys.values():
            self.keys[label] = key


def table_blobs(conn: Connection) -> dict[str, list[bytes]]:
    """Every binary value in every table, by `table.column`."""
    metadata = MetaData()
    metadata.reflect(conn)
    blobs: dict[str, list[bytes]] = {}
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, LargeBinary):
                values = [bytes(v) for v in conn.execute(select(column).where(column.is_not(None))).scalars()]
                blobs[f"{table.name}.{column.name}"] = values
    return blobs


def person_ids(conn: Connection) -> list[str]:
    metadata = MetaData()
    metadata.reflect(conn, only=["persons"])
    persons = metadata.tables["persons"]
    return [str(uuid.UUID(str(value))) for value in conn.execute(select(persons.c.id)).scalars()]


def _keyring_aads(max_version: int) -> list[tuple[str, bytes]]:
    return [(f"{kind} v{version}", f"identity/keyring/{kind}/{version}".encode())
            for kind in KEY_KINDS for version in range(1, max_version + 1)]


def open_keyring_copies(root_keys: RootKeys, where: str, data: bytes, haul: Haul, max_version: int = 12) -> None:
    """Every keyring row (or old copy of one) in `data` that a root key opens."""
    aads = _keyring_aads(max_version)
    for root in root_keys.keys:
        mark = fingerprint(root)
        start = data.find(mark)
        while start != -1:
            blob = data[start:start + SEALED_KEY]
            for label, aad in aads:
                try:
                    material = root_keys.decrypt(blob, aad)
                except (KeyringError, DecryptionFailed):
                    continue
                haul.add_key(f"keyring {label} (from {where})", material)
            start = data.find(mark, start + 1)


def unwrap_data_keys(ids: Iterable[str], where: str, data: bytes, haul: Haul) -> None:
    """Every wrapped data key in `data` that a recovered key opens for any person id."""
    ids = list(ids)
    start = data.find(bytes([FORMAT]))
    while start != -1:
        blob = data[start:start + WRAPPED_KEY]
        if len(blob) == WRAPPED_KEY and 0 < struct.unpack(">I", blob[1:5])[0] < 1000:
            header, nonce, body = blob[:5], blob[5:5 + NONCE], blob[5 + NONCE:]
            for label, key in list(haul.keys.items()):
                if len(key) != KEY:
                    continue
                for pid in ids:
                    try:
                        dek = AESGCM(key).decrypt(nonce, body, header + f"identity/person/{pid}/dek".encode())
                    except InvalidTag:
                        continue
                    haul.add_key(f"data key of person {pid} (from {where}, under {label})", dek)
        start = data.find(bytes([FORMAT]), start + 1)


def read_fields(person: Person, where: str, data: bytes, haul: Haul) -> None:
    """Decrypt, with every recovered key, whatever follows every `0x01 | nonce` in `data`."""
    needles = person.needles()
    ciphers = [(label, algorithms.AES(key)) for label, key in haul.keys.items() if len(key) == KEY]
    start = data.find(bytes([FORMAT]))
    while start != -1:
        nonce = data[start + 1:start + 1 + NONCE]
        body = data[start + 1 + NONCE:start + 1 + NONCE + PLAINTEXT_WINDOW]
        if len(nonce) == NONCE and body:
            counter = nonce + b"\x00\x00\x00\x02"
            for label, algorithm in ciphers:
                plain = Cipher(algorithm, modes.CTR(counter)).decryptor().update(body)
                for what, needle in needles.items():
                    if needle in plain:
                        haul.findings.append(f"{what} decrypted from {where} at byte {start} with {label}")
        start = data.find(bytes([FORMAT]), start + 1)


def find_in_clear(person: Person, where: str, data: bytes, haul: Haul) -> None:
    """The person's data in clear (any encoding), or as a blind index under any recovered key."""
    for what, text in (("real_name", person.real_name), ("document number", person.document.number),
                       ("phone", person.phone)):
        if text:
            for encoded in encodings_of(text):
                if encoded in data:
                    haul.findings.append(f"{what} in clear in {where}")
    material = person.document.index_material()
    for label, key in haul.keys.items():
        if document_index(key, material) in data:
            haul.findings.append(f"document blind index under {label} in {where}")


def search(person: Person, root_keys: RootKeys, ids: list[str], sources: dict[str, bytes]) -> Haul:
    """Recover every key the root keys open in `sources` (the keyring table is one of them),
    every data key those unwrap, then everything of `person` any of them opens in `sources`.

    `sources` maps a place (a table column, a raw file) to its bytes.
    """
    haul = Haul()
    for root_number, root in enumerate(root_keys.keys, start=1):
        haul.add_key(f"root key line {root_number}", root)
    for where, data in sources.items():
        open_keyring_copies(root_keys, where, data, haul)
    for where, data in sources.items():
        unwrap_data_keys(ids, where, data, haul)
    for where, data in sources.items():
        find_in_clear(person, where, data, haul)
        read_fields(person, where, data, haul)
    return haul
