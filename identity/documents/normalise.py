"""`normalise_document`: dispatch on the document type."""

from __future__ import annotations

import datetime

from . import messages
from .dates import as_date
from .errors import DocumentError
from .foreign_permanent_resident import normalise_foreign_permanent_resident_id
from .model import (
    CN_FOREIGN_PERMANENT_RESIDENT_ID,
    CN_RESIDENT_ID,
    DOCUMENT_TYPES,
    HK_MACAU_TRAVEL_PERMIT,
    PASSPORT,
    TW_TRAVEL_PERMIT,
    Document,
)
from .passport import normalise_issuing_country, normalise_passport
from .permits import normalise_hk_macau_permit, normalise_tw_permit
from .resident_id import normalise_resident_id
from .text import MAX_RAW_LENGTH


def normalise_document(
    doc_type: str, number: str, issuing_country: str | None, *, today: datetime.date
) -> Document:
    """Validate and normalise an identity document.

    ``doc_type`` must be exactly one of `DOCUMENT_TYPES` (no case folding).
    ``issuing_country`` is required for passports; for the other types it is
    ignored (the Document's ``issuing_country`` is None), since the type
    already fixes the issuer.  ``today`` is the date against which birth
    dates are checked.  Raises `DocumentError`.
    """
    today = as_date(today)
    if not isinstance(doc_type, str) or doc_type not in DOCUMENT_TYPES:
        message = messages.REQUIRED if doc_type is None or doc_type == "" else messages.UNKNOWN_TYPE
        raise DocumentError({messages.FIELD_TYPE: [message]})
    if number is None:
        number_problem: str | None = messages.REQUIRED
    elif not isinstance(number, str):
        number_problem = messages.NOT_A_STRING
    elif len(number) > MAX_RAW_LENGTH:
        number_problem = messages.TOO_LONG_INPUT
    else:
        number_problem = None
    if number_problem is not None:
        errors = {messages.FIELD_NUMBER: [number_problem]}
        if doc_type == PASSPORT:
            try:
                normalise_issuing_country(issuing_country)
            except DocumentError as exc:
                errors.update(exc.errors)
        raise DocumentError(errors)

    if doc_type == CN_RESIDENT_ID:
        return normalise_resident_id(number, today=today)
    if doc_type == CN_FOREIGN_PERMANENT_RESIDENT_ID:
        return normalise_foreign_permanent_resident_id(number, today=today)
    if doc_type == HK_MACAU_TRAVEL_PERMIT:
        return normalise_hk_macau_permit(number)
    if doc_type == TW_TRAVEL_PERMIT:
        return normalise_tw_permit(number)
    return normalise_passport(number, issuing_country)
