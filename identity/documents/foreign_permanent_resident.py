"""Foreigner's Permanent Residence ID Card number, 2023 format (新版外国人永久居留身份证).

Format (18 characters), as issued from 1 December 2023:

=========  =====================================================================
position   meaning
=========  =====================================================================
1          ``9``, the mark of a foreigner (citizen numbers start 1-8)
2-3        province-level code (GB/T 2260) of the authority that took the
           application (受理地代码)
4-6        nationality at first issue, 3-digit numeric code (国籍代码); the
           2017 card's 3-letter code is converted to its ISO 3166-1 numeric
           equivalent
7-14       birth date YYYYMMDD
15-17      sequence
18         check character, ISO 7064 MOD 11-2 exactly as GB 11643 (``X`` = 10)
=========  =====================================================================

Sources:

* National Immigration Administration (NIA) press conference of
  15 September 2023 announcing the card (reported by Xinhua, People's Daily
  English and Shanghai Daily): numbers go from 15 to 18 characters and
  include the foreigner mark, the nationality code and the location code.
* The NIA's machine-readable information rules for the new card,
  《新版外国人永久居留身份证机读信息规则（2023版）》, as republished by
  card-reader vendors (e.g. eastcoms.com, October 2023): the number follows
  the citizen identity number standard; 15 characters (3 Latin letters +
  12 digits) become 18 (17 digits + 1 check character); the 3-letter
  country code becomes a numeric code; the first digit is 9; the last
  character is a MOD 11-2 check character computed as for citizen numbers.
* The technical standard GA 2102-2023 《外国人永久居留身份证技术规范》,
  cited in hutool pull request #4287/#4288, whose ``IdcardUtil`` reads the
  province from digits 2-3 of numbers starting with 9.
* An independent open-source implementation (xiahaimoyu credentialkit,
  ``ForeignerPermanentResidenceIdNumberProcessor``) that checks digits 2-3
  against province codes, digits 4-6 against ISO 3166-1 numeric codes,
  digits 7-14 as a past date and digit 18 with the GB 11643 check.

Choices: the province code must be one of the province-level codes of
python-stdnum's GB/T 2260 table (11 ... 65, 71, 81, 82); the nationality code
must be a current ISO 3166-1 numeric code (`identity.documents.countries`);
the birth date follows the same rules as for resident IDs (real date, not in
the future, not before 1900).  The 15-character 2017-format number
(3 letters + 12 digits) is refused with a message that says so, because the
contract asks for the 2023-format number.
"""

from __future__ import annotations

import datetime
import re
from typing import Final

from . import messages
from .checkdigit import gb11643_check_character
from .countries import is_numeric
from .dates import parse_birth_date
from .errors import DocumentError
from .model import CN_FOREIGN_PERMANENT_RESIDENT_ID, Document
from .regions import is_province_code
from .text import compact_identifier, is_ascii_digits

_LEGACY_2017: Final = re.compile(r"[A-Za-z]{3}[0-9]{12}", re.ASCII)


def _fail(*reasons: str) -> DocumentError:
    return DocumentError({messages.FIELD_NUMBER: list(reasons)})


def normalise_foreign_permanent_resident_id(raw: str, *, today: datetime.date) -> Document:
    """Validate and normalise a 2023-format Foreigner's Permanent Residence ID Card number."""
    number = compact_identifier(raw)
    if not number:
        raise _fail(messages.REQUIRED)
    if _LEGACY_2017.fullmatch(number):
        raise _fail(messages.FPR_LEGACY_15)
    if len(number) != 18 or not is_ascii_digits(number[:17]) or number[17] not in "0123456789Xx":
        raise _fail(messages.FPR_FORMAT)
    if number[0] != "9":
        raise _fail(messages.FPR_FIRST_DIGIT)
    number = number[:17] + number[17].upper()

    reasons: list[str] = []
    if not is_province_code(number[1:3]):
        reasons.append(messages.FPR_PROVINCE)
    if not is_numeric(number[3:6]):
        reasons.append(messages.FPR_NATIONALITY)
    birth_date, date_problem = parse_birth_date(number[6:14], today=today)
    if date_problem is not None:
        reasons.append(date_problem)
    if gb11643_check_character(number[:17]) != number[17]:
        reasons.append(messages.CHECK_CHARACTER)
    if reasons:
        raise _fail(*reasons)
    return Document(
        type=CN_FOREIGN_PERMANENT_RESIDENT_ID,
        number=number,
        issuing_country=None,
        birth_date=birth_date,
    )
