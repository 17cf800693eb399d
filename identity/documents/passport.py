"""Passports: a number of 5 to 20 letters and digits plus the issuing country.

The number is NFKC-normalised, stripped of all whitespace, checked to be
ASCII letters and digits only (the characters a machine-readable zone can
hold) and uppercased.  The issuing country must be a current ISO 3166-1
alpha-3 code (uppercased after trimming); see `identity.documents.countries`
for what is and is not in that list.  Both problems are reported together.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from . import messages
from .countries import is_alpha3
from .errors import DocumentError
from .model import PASSPORT, Document
from .text import MAX_RAW_LENGTH, compact_identifier, is_ascii_alnum

PASSPORT_NUMBER_MIN: Final = 5
PASSPORT_NUMBER_MAX: Final = 20


def _number_problem(raw: str) -> tuple[str | None, str | None]:
    number = compact_identifier(raw)
    if not number:
        return None, messages.REQUIRED
    if not (PASSPORT_NUMBER_MIN <= len(number) <= PASSPORT_NUMBER_MAX) or not is_ascii_alnum(number):
        return None, messages.PASSPORT_FORMAT
    return number.upper(), None


def normalise_issuing_country(raw: str | None) -> str:
    """Validate and normalise an ISO 3166-1 alpha-3 issuing country."""
    if raw is None:
        raise DocumentError({messages.FIELD_COUNTRY: [messages.COUNTRY_REQUIRED_FOR_PASSPORT]})
    if not isinstance(raw, str):
        raise DocumentError({messages.FIELD_COUNTRY: [messages.NOT_A_STRING]})
    if len(raw) > MAX_RAW_LENGTH:
        raise DocumentError({messages.FIELD_COUNTRY: [messages.COUNTRY_NOT_ALPHA3]})
    code = unicodedata.normalize("NFKC", raw).strip()
    if not code:
        raise DocumentError({messages.FIELD_COUNTRY: [messages.COUNTRY_REQUIRED_FOR_PASSPORT]})
    if not (code.isascii() and code.isalpha()) or not is_alpha3(code.upper()):
        raise DocumentError({messages.FIELD_COUNTRY: [messages.COUNTRY_NOT_ALPHA3]})
    return code.upper()


def normalise_passport(raw: str, issuing_country: str | None) -> Document:
    """Validate and normalise a passport number and its issuing country."""
    errors: dict[str, list[str]] = {}
    number, number_problem = _number_problem(raw)
    if number_problem is not None:
        errors[messages.FIELD_NUMBER] = [number_problem]
    country: str | None = None
    try:
        country = normalise_issuing_country(issuing_country)
    except DocumentError as exc:
        errors.update(exc.errors)
    if errors or number is None or country is None:
        raise DocumentError(errors)
    return Document(type=PASSPORT, number=number, issuing_country=country, birth_date=None)
