"""Field paths and the complete catalogue of error messages.

Every message is a constant.  None is built from the input, so none can echo
a submitted name, number or phone number; the tests check that every message
raised is one of these.  Messages avoid quoting punctuation glyphs so that
even a one-character submission such as a lone middle dot is not found in
the text.
"""

from __future__ import annotations

from typing import Final

# Field paths -----------------------------------------------------------------
FIELD_TYPE: Final = "id_document.type"
FIELD_NUMBER: Final = "id_document.number"
FIELD_COUNTRY: Final = "id_document.issuing_country"
FIELD_NAME: Final = "real_name"
FIELD_PHONE: Final = "phone"

# Shared ----------------------------------------------------------------------
REQUIRED: Final = "is required"
NOT_A_STRING: Final = "must be a string"
TOO_LONG_INPUT: Final = "is far too long"

# id_document.type --------------------------------------------------------------
UNKNOWN_TYPE: Final = "is not a supported document type"

# id_document.issuing_country ---------------------------------------------------
COUNTRY_REQUIRED_FOR_PASSPORT: Final = "is required for passports"
COUNTRY_NOT_ALPHA3: Final = "must be a current ISO 3166-1 alpha-3 country code (three letters)"

# id_document.number: cn_resident_id ----------------------------------------------
RIC_LEGACY_15: Final = "15-digit first-generation numbers are no longer accepted; use the 18-character number"
RIC_FORMAT: Final = "must be 18 characters: 17 digits followed by a digit or the letter X"
RIC_FOREIGNER_NUMBER: Final = (
    "numbers starting with 9 are Foreigner's Permanent Residence ID Card numbers; "
    "use the cn_foreign_permanent_resident_id document type"
)
RIC_REGION: Final = (
    "the first 6 digits must be an administrative division code (GB/T 2260) that exists or has existed"
)

# id_document.number: cn_foreign_permanent_resident_id ------------------------------
FPR_LEGACY_15: Final = (
    "15-character numbers from the 2017-format card are not accepted; "
    "use the 18-character number of the 2023-format card"
)
FPR_FORMAT: Final = "must be 18 characters: 17 digits followed by a digit or the letter X"
FPR_FIRST_DIGIT: Final = "must start with 9, the mark of a Foreigner's Permanent Residence ID Card"
FPR_PROVINCE: Final = "digits 2 and 3 must be the province-level code of the issuing authority"
FPR_NATIONALITY: Final = "digits 4 to 6 must be an ISO 3166-1 numeric nationality code"

# id_document.number: birth date and check character (both 18-character formats) ----
BIRTH_DATE_INVALID: Final = "digits 7 to 14 must be a real calendar date (year, month, day)"
BIRTH_DATE_FUTURE: Final = "the birth date in digits 7 to 14 must not be in the future"
BIRTH_DATE_TOO_EARLY: Final = "the birth date in digits 7 to 14 must not be before the year 1900"
CHECK_CHARACTER: Final = "the check character (the last one) does not match the other 17 digits"

# id_document.number: permits and passports -------------------------------------------
HKM_FORMAT: Final = "must be the letter H or M followed by 8 or 10 digits"
TW_FORMAT: Final = "must be exactly 8 digits"
PASSPORT_FORMAT: Final = "must be 5 to 20 letters (A to Z) and digits"

# real_name -----------------------------------------------------------------------------
NAME_TOO_LONG: Final = "must be at most 64 characters"
NAME_CONTROL: Final = "must not contain control characters"
NAME_DIGITS: Final = "must not contain digits"
NAME_CHARACTERS: Final = (
    "may contain only letters, combining marks, spaces, middle dots, hyphens and apostrophes"
)
NAME_NEEDS_LETTER: Final = "must contain at least one letter"
NAME_DANGLING_MARK: Final = "combining marks must follow a letter"
NAME_DANGLING_JOINER: Final = "invisible joining characters must sit between letters"
NAME_EDGE_SEPARATOR: Final = "must not start or end with a middle dot or a hyphen"

# phone -----------------------------------------------------------------------------------
PHONE_NEEDS_PLUS: Final = (
    "must be in international E.164 form: a plus sign, the country calling code, then the number"
)
PHONE_CHARACTERS: Final = (
    "may contain only digits after the leading plus sign, with optional spaces, hyphens, "
    "dots or parentheses; extensions are not accepted"
)
PHONE_UNPARSEABLE: Final = "is not a phone number in international E.164 form"
PHONE_INVALID: Final = "is not a valid phone number for its country"

#: Every message above; a raised message outside this set is a bug.
ALL_MESSAGES: Final[frozenset[str]] = frozenset(
    value
    for name, value in dict(globals()).items()
    if isinstance(value, str) and name.isupper() and not name.startswith("FIELD_")
)
