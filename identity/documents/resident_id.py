"""Resident Identity Card number (公民身份号码), GB 11643-1999.

Structure (18 characters): 6-digit address code (GB/T 2260 administrative
division), 8-digit birth date YYYYMMDD, 3-digit sequence (odd for men, even
for women), 1 check character (ISO 7064 MOD 11-2; ``X`` stands for 10).

Normalisation: NFKC (fullwidth digits typed with a Chinese input method
become ASCII), all whitespace dropped, then a lowercase ``x`` check
character is read as ``X``.

Rules: 15-digit first-generation numbers (GB 11643-1989, no century and no
check character) are refused with a message saying so; the region code
must exist or have existed (see `identity.documents.regions` for why this
is wider than ``stdnum.cn.ric``); the birth date must be a real date, not
after ``today`` and not before 1900; the check character must match.
Every failing rule of a well-formed 18-character number is reported.
"""

from __future__ import annotations

import datetime

from . import messages
from .checkdigit import gb11643_check_character
from .dates import parse_birth_date
from .errors import DocumentError
from .model import CN_RESIDENT_ID, Document
from .regions import is_region_code
from .text import compact_identifier, is_ascii_digits


def _fail(*reasons: str) -> DocumentError:
    return DocumentError({messages.FIELD_NUMBER: list(reasons)})


def normalise_resident_id(raw: str, *, today: datetime.date) -> Document:
    """Validate and normalise a Resident Identity Card number."""
    number = compact_identifier(raw)
    if not number:
        raise _fail(messages.REQUIRED)
    if len(number) == 15 and is_ascii_digits(number):
        raise _fail(messages.RIC_LEGACY_15)
    if len(number) != 18 or not is_ascii_digits(number[:17]) or number[17] not in "0123456789Xx":
        raise _fail(messages.RIC_FORMAT)
    number = number[:17] + number[17].upper()

    reasons: list[str] = []
    if number[0] == "9":
        reasons.append(messages.RIC_FOREIGNER_NUMBER)
    elif not is_region_code(number[:6]):
        reasons.append(messages.RIC_REGION)
    birth_date, date_problem = parse_birth_date(number[6:14], today=today)
    if date_problem is not None:
        reasons.append(date_problem)
    if gb11643_check_character(number[:17]) != number[17]:
        reasons.append(messages.CHECK_CHARACTER)
    if reasons:
        raise _fail(*reasons)
    return Document(type=CN_RESIDENT_ID, number=number, issuing_country=None, birth_date=birth_date)
