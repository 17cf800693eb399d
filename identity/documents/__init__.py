"""Identity-document, name and phone validation for ``POST /v1/registrations``.

Pure Python: no Flask, no database, no clock (``today`` is passed in).

Public interface::

    DOCUMENT_TYPES                      # the five document type names
    DocumentError                       # ValueError with .errors: dict[str, list[str]]
    Document                            # frozen dataclass: type, number, issuing_country, birth_date
    normalise_document(doc_type, number, issuing_country, *, today) -> Document
    normalise_name(raw) -> str
    normalise_phone(raw) -> str         # E.164
    mask(value) -> str
    age_on(birth_date, day) -> int

Modules by responsibility: `names`, `phones`, `resident_id`,
`foreign_permanent_resident`, `permits`, `passport` (one per input rule),
`checkdigit` (GB 11643 MOD 11-2), `regions` (GB/T 2260 codes from
python-stdnum), `countries` (ISO 3166-1 data), `dates` (birth dates, ages),
`model` (Document, masking), `messages` (every error message), `errors`.
"""

from __future__ import annotations

from .dates import age_on
from .errors import DocumentError
from .model import DOCUMENT_TYPES, Document, mask
from .names import normalise_name
from .normalise import normalise_document
from .phones import normalise_phone

__all__ = [
    "DOCUMENT_TYPES",
    "Document",
    "DocumentError",
    "age_on",
    "mask",
    "normalise_document",
    "normalise_name",
    "normalise_phone",
]
