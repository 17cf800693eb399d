"""The normalised document value and masking."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Final

CN_RESIDENT_ID: Final = "cn_resident_id"
CN_FOREIGN_PERMANENT_RESIDENT_ID: Final = "cn_foreign_permanent_resident_id"
HK_MACAU_TRAVEL_PERMIT: Final = "hk_macau_travel_permit"
TW_TRAVEL_PERMIT: Final = "tw_travel_permit"
PASSPORT: Final = "passport"

DOCUMENT_TYPES: Final[tuple[str, ...]] = (
    CN_RESIDENT_ID,
    CN_FOREIGN_PERMANENT_RESIDENT_ID,
    HK_MACAU_TRAVEL_PERMIT,
    TW_TRAVEL_PERMIT,
    PASSPORT,
)

#: Version of the `index_material` encoding; bump it if the canonical form of
#: any document changes, so stored index values can be recomputed.
INDEX_MATERIAL_VERSION: Final = 1

_MASK_KEEP_START: Final = 3
_MASK_KEEP_END: Final = 2
#: Below this length, keeping 3 + 2 characters would hide fewer than 3, so the
#: whole value is masked instead.
_MASK_MIN_LENGTH: Final = 8


def mask(value: str) -> str:
    """First 3 and last 2 characters kept, the others replaced by '*'.

    Values shorter than 8 characters are masked entirely ('*' for every
    character), since keeping 5 of them would leave fewer than 3 hidden.
    Examples: an E.164 phone ``+8613800138000`` gives ``+86*********00``;
    an 8-digit permit number keeps 3 + 2 and hides 3.
    """
    length = len(value)
    if length < _MASK_MIN_LENGTH:
        return "*" * length
    hidden = length - _MASK_KEEP_START - _MASK_KEEP_END
    return value[:_MASK_KEEP_START] + "*" * hidden + value[length - _MASK_KEEP_END :]


def _identity_number(doc_type: str, number: str) -> str:
    """The part of a normalised number that stays the same for one person.

    Mainland Travel Permit for Hong Kong and Macau Residents: per the Ministry
    of Public Security's published number rule (2010), the 11-character form is
    the letter, an 8-digit lifetime number (终身号), then 2 digits counting
    renewals (00 on first issue).  Cards since 2013 print the 9-character form
    (letter and lifetime number) and show the renewal count separately.  Both
    forms of one person's permit therefore share the first 9 characters, which
    is what identifies the person.  Every other type uses the whole number.
    """
    if doc_type == HK_MACAU_TRAVEL_PERMIT:
        return number[:9]
    return number


@dataclass(frozen=True)
class Document:
    """A validated, normalised identity document.

    ``number`` and ``birth_date`` are left out of ``repr`` so that logging a
    Document does not log personal data; use `masked_number` for display.
    """

    type: str
    number: str = field(repr=False)  # normalised (uppercase, spaces dropped)
    issuing_country: str | None  # alpha-3 uppercase, passports only
    birth_date: datetime.date | None = field(repr=False)
    # A published test identity registered on a sandbox platform: the same number is another
    # person outside the sandbox, so its index material carries a namespace of its own.
    sandbox: bool = False

    def index_material(self) -> bytes:
        """Canonical bytes that identify 'the same person' = same document type + normalised number
        (+ issuing country for passports, since passport numbers are only unique per country).

        Encoding: compact JSON with sorted keys, ASCII only, e.g.
        ``{"country":null,"number":"11010519491231002X","type":"cn_resident_id","v":1}``.
        ``country`` is null for every type but passports.  For Hong Kong and
        Macau permits ``number`` is the letter and 8-digit lifetime number, so
        the 9- and 11-character forms of the same permit give the same bytes.
        The bytes are meant to be keyed-hashed (HMAC) before storage, not
        stored as they are.  A sandbox document adds ``"ns":"sandbox"``, so it
        never finds, nor is found by, a person registered outside the sandbox.
        """
        payload = {
            "v": INDEX_MATERIAL_VERSION,
            "type": self.type,
            "number": _identity_number(self.type, self.number),
            "country": self.issuing_country if self.type == PASSPORT else None,
        }
        if self.sandbox:
            payload["ns"] = "sandbox"
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")

    def masked_number(self) -> str:
        """first 3 and last 2 characters kept, the rest '*' ."""
        return mask(self.number)
