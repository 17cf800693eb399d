"""Travel permits for Hong Kong, Macau and Taiwan residents.

* ``hk_macau_travel_permit`` (港澳居民来往内地通行证, "Home Return Permit"):
  ``H`` (Hong Kong) or ``M`` (Macau) then 8 digits (cards since 2013) or
  10 digits (the 11-character form: 8-digit lifetime number + 2-digit
  renewal count, per the Ministry of Public Security's 2010 number rule).
* ``tw_travel_permit`` (台湾居民来往大陆通行证): 8 digits.

Normalisation: NFKC, all whitespace dropped, letter uppercased.  Neither
number carries a birth date.
"""

from __future__ import annotations

import re
from typing import Final

from . import messages
from .errors import DocumentError
from .model import HK_MACAU_TRAVEL_PERMIT, TW_TRAVEL_PERMIT, Document
from .text import compact_identifier

_HK_MACAU: Final = re.compile(r"[HMhm](?:[0-9]{8}|[0-9]{10})", re.ASCII)
_TAIWAN: Final = re.compile(r"[0-9]{8}", re.ASCII)


def _fail(reason: str) -> DocumentError:
    return DocumentError({messages.FIELD_NUMBER: [reason]})


def normalise_hk_macau_permit(raw: str) -> Document:
    """Validate and normalise a Mainland Travel Permit for Hong Kong and Macau Residents."""
    number = compact_identifier(raw)
    if not number:
        raise _fail(messages.REQUIRED)
    if not _HK_MACAU.fullmatch(number):
        raise _fail(messages.HKM_FORMAT)
    return Document(type=HK_MACAU_TRAVEL_PERMIT, number=number.upper(), issuing_country=None, birth_date=None)


def normalise_tw_permit(raw: str) -> Document:
    """Validate and normalise a Mainland Travel Permit for Taiwan Residents."""
    number = compact_identifier(raw)
    if not number:
        raise _fail(messages.REQUIRED)
    if not _TAIWAN.fullmatch(number):
        raise _fail(messages.TW_FORMAT)
    return Document(type=TW_TRAVEL_PERMIT, number=number, issuing_country=None, birth_date=None)
