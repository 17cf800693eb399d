"""What the page says, in English msgids translated by the Babel catalogues (translations/).

The domain's refusals (identity.documents.messages) are written for a developer reading an API
error; a person reading the page gets a plain sentence about their own document instead. Every
domain message maps to one here; one not mapped gets its field's general sentence.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from identity.documents import messages as m
from identity.documents.model import (
    CN_FOREIGN_PERMANENT_RESIDENT_ID,
    CN_RESIDENT_ID,
    HK_MACAU_TRAVEL_PERMIT,
    PASSPORT,
    TW_TRAVEL_PERMIT,
)

# Page fields, in the order the page shows them (the error summary follows it).
NAME, TYPE, NUMBER, COUNTRY, PHONE, CONSENT, GUARDIAN = (
    "real_name", "id_type", "id_number", "issuing_country", "phone", "consent", "guardian_consent")
FIELD_ORDER = (NAME, TYPE, NUMBER, COUNTRY, PHONE, CONSENT, GUARDIAN)
# The API's field paths, as the page names them.
API_FIELDS = {m.FIELD_NAME: NAME, m.FIELD_TYPE: TYPE, m.FIELD_NUMBER: NUMBER, m.FIELD_COUNTRY: COUNTRY,
              m.FIELD_PHONE: PHONE}

DOCUMENT_NAMES: dict[str, LazyString] = {
    CN_RESIDENT_ID: _l("Resident Identity Card"),
    HK_MACAU_TRAVEL_PERMIT: _l("Mainland Travel Permit for Hong Kong and Macao Residents"),
    TW_TRAVEL_PERMIT: _l("Mainland Travel Permit for Taiwan Residents"),
    PASSPORT: _l("Passport"),
    CN_FOREIGN_PERMANENT_RESIDENT_ID: _l("Foreigner's Permanent Residence ID Card"),
}

_CHECK_NUMBER = _l("Check your document number: it is not a valid number for this document type")
_NAME_CHARACTERS = _l("Your name may contain only letters, spaces, middle dots (·), hyphens and apostrophes")
_PHONE_FORM = _l("Enter a mobile phone number with its country code, like +86 138 0013 8000")

FIELD_MESSAGES: dict[str, LazyString] = {
    m.REQUIRED: _l("Check this answer"),
    # real_name
    m.NAME_TOO_LONG: _l("Your name must be 64 characters or fewer"),
    m.NAME_CONTROL: _NAME_CHARACTERS,
    m.NAME_DIGITS: _l("Your name must not contain digits"),
    m.NAME_CHARACTERS: _NAME_CHARACTERS,
    m.NAME_NEEDS_LETTER: _NAME_CHARACTERS,
    m.NAME_DANGLING_MARK: _NAME_CHARACTERS,
    m.NAME_DANGLING_JOINER: _NAME_CHARACTERS,
    m.NAME_EDGE_SEPARATOR: _l("Your name must not start or end with a middle dot or a hyphen"),
    # id_document.type and issuing_country
    m.UNKNOWN_TYPE: _l("Select the type of your identity document"),
    m.COUNTRY_REQUIRED_FOR_PASSPORT: _l("Select the country or region that issued your passport"),
    m.COUNTRY_NOT_ALPHA3: _l("Select the country or region that issued your passport"),
    # id_document.number
    m.RIC_LEGACY_15: _l("Enter the 18-character number: 15-digit numbers of first-generation cards are no "
                        "longer accepted"),
    m.RIC_FORMAT: _l("Enter 18 characters: 17 digits, then a digit or the letter X"),
    m.FPR_FORMAT: _l("Enter 18 characters: 17 digits, then a digit or the letter X"),
    m.RIC_FOREIGNER_NUMBER: _l("Numbers starting with 9 are Foreigner's Permanent Residence ID Card numbers: "
                               "select that document type"),
    m.RIC_REGION: _l("The first 6 digits are not a region code that exists: check your number"),
    m.FPR_LEGACY_15: _l("Enter the 18-character number of the 2023 card"),
    m.FPR_FIRST_DIGIT: _CHECK_NUMBER,
    m.FPR_PROVINCE: _CHECK_NUMBER,
    m.FPR_NATIONALITY: _CHECK_NUMBER,
    m.BIRTH_DATE_INVALID: _l("Digits 7 to 14 must be your date of birth: check your number"),
    m.BIRTH_DATE_FUTURE: _l("Digits 7 to 14 must be your date of birth: check your number"),
    m.BIRTH_DATE_TOO_EARLY: _l("Digits 7 to 14 must be your date of birth: check your number"),
    m.CHECK_CHARACTER: _l("The last character does not match the rest of the number: check it for a typing "
                          "mistake"),
    m.HKM_FORMAT: _l("Enter H or M followed by 8 or 10 digits, as on your permit"),
    m.TW_FORMAT: _l("Enter the 8 digits of your permit"),
    m.PASSPORT_FORMAT: _l("Enter 5 to 20 letters and digits, as on your passport"),
    # phone
    m.PHONE_NEEDS_PLUS: _PHONE_FORM,
    m.PHONE_CHARACTERS: _PHONE_FORM,
    m.PHONE_UNPARSEABLE: _PHONE_FORM,
    m.PHONE_INVALID: _l("This is not a valid mobile phone number for its country: check it"),
}

# A field left empty: what to do, not what went wrong.
EMPTY: dict[str, LazyString] = {
    NAME: _l("Enter your full name, as on your document"),
    TYPE: _l("Select the type of your identity document"),
    NUMBER: _l("Enter your document number"),
    COUNTRY: _l("Select the country or region that issued your passport"),
    PHONE: _l("Enter your mobile phone number"),
}

CONSENT_MISSING = _l("Tick the box to accept the privacy notice, or leave this page if you do not accept it")
GUARDIAN_MISSING = _l("You are under 14: your parent or guardian must agree, and tick the box")
NOT_VERIFIED = _l("Your name and document number do not match the records: check both, exactly as on your "
                  "document")
TOO_YOUNG = _l("You must be at least %(age)s years old to register on this platform")
NO_BIRTH_DATE = _l("This platform must check your age, and this document does not show a date of birth: use "
                   "another document")
RETRY = _l("The service is busy. Wait a minute and send the form again: what you typed is still here.")
FORM_TIMED_OUT = _l("This form timed out, for your security. Check your answers and send it again.")

# Headings of the pages that are not the form.
DONE_HEADING = _l("You have verified your identity")
ENDED_HEADING = _l("This link no longer works")
NOT_REGISTERED_HEADING = _l("No new account was opened")
BUSY_HEADING = _l("Try again in a minute")

# The page a link answers once it no longer opens a form (410), by the session's status.
ENDED: dict[str, LazyString] = {
    "completed": _l("You have already verified your identity with this link. You can close this page."),
    "expired": _l("This link has expired: links work for 30 minutes. Go back to the platform to get a new one."),
    "canceled": _l("The platform has canceled this link. Go back to the platform to start again."),
    "failed": _l("This link can no longer be used. Go back to the platform to start again."),
    "too_many_attempts": _l("This link can no longer be used: the form was refused 5 times. Go back to the "
                            "platform to start again."),
}
# The person's last sentence when the registration ended without an account here.
DUPLICATE = _l("You already have an account on this platform, so no new one was opened. Go back to the platform "
               "and sign in.")
REFUSED = _l("You cannot register on this platform at the moment. The platform can tell you more.")
NOT_FOUND = _l("This link does not work. Check that you copied all of it, or go back to the platform.")
