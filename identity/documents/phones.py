"""Phone numbers: international E.164, valid for their country.

The input is NFKC-normalised (fullwidth digits and plus sign become ASCII)
and trimmed.  It must start with ``+`` (``00`` and national forms are
refused, since there is no region to read them against), and after the plus
may hold only digits with optional spaces, hyphens, dots and parentheses
(so ``+44 (0)20 ...`` works, vanity letters and extensions do not).  It is
then parsed by ``phonenumbers`` with no default region and must pass
``is_valid_number``; the result is formatted as E.164.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import phonenumbers

from . import messages
from .errors import DocumentError
from .text import MAX_RAW_LENGTH

_ALLOWED: Final = re.compile(r"\+[0-9 ().\-]+", re.ASCII)


def _fail(reason: str) -> DocumentError:
    return DocumentError({messages.FIELD_PHONE: [reason]})


def normalise_phone(raw: str) -> str:
    """Validate a phone number and return it in E.164; raises DocumentError({'phone': [...]})."""
    if not isinstance(raw, str):
        raise _fail(messages.NOT_A_STRING)
    if len(raw) > MAX_RAW_LENGTH:
        raise _fail(messages.PHONE_UNPARSEABLE)
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise _fail(messages.REQUIRED)
    if not text.startswith("+"):
        raise _fail(messages.PHONE_NEEDS_PLUS)
    if not _ALLOWED.fullmatch(text):
        raise _fail(messages.PHONE_CHARACTERS)
    parsed: phonenumbers.PhoneNumber | None
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None:
        raise _fail(messages.PHONE_UNPARSEABLE)
    if parsed.extension or not phonenumbers.is_valid_number(parsed):
        raise _fail(messages.PHONE_INVALID)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
