"""ISO 3166-1 country codes (alpha-3, numeric, alpha-2), from pycountry.

pycountry ships the ``iso_3166-1.json`` file of Debian's ``iso-codes``, which follows the
ISO 3166 Maintenance Agency's list; a release of pycountry follows each release of iso-codes,
so the list is kept up to date by upgrading a pin rather than by editing a table here.

Only *current* codes are accepted. Codes withdrawn under ISO 3166-3 (such as ``ANT``
Netherlands Antilles or ``SCG`` Serbia and Montenegro) are not: the last of them was withdrawn
in 2010, so every passport issued under one has expired. ICAO Doc 9303 codes that are not
ISO 3166-1 codes (``D`` for Germany, ``RKS`` for Kosovo, ``UNO``/``UNA``/``UNK`` for United
Nations documents, the ``XX*`` codes for stateless persons and refugees) and user-assigned
codes (``XKX``) are not in pycountry's list either: the registration contract asks for
ISO 3166-1 alpha-3. See docs/decisions.md for what to check when upgrading pycountry.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import pycountry

#: (alpha-3, numeric, alpha-2, English short name), sorted by alpha-3.
COUNTRIES: Final[tuple[tuple[str, str, str, str], ...]] = tuple(sorted(
    (country.alpha_3, country.numeric, country.alpha_2, country.name) for country in pycountry.countries
))

#: alpha-3 code to 3-digit numeric code (both as strings).
ALPHA3_TO_NUMERIC: Final[Mapping[str, str]] = MappingProxyType(
    {alpha3: numeric for alpha3, numeric, _alpha2, _name in COUNTRIES}
)

#: 3-digit numeric code (as a zero-padded string) to alpha-3 code.
NUMERIC_TO_ALPHA3: Final[Mapping[str, str]] = MappingProxyType(
    {numeric: alpha3 for alpha3, numeric, _alpha2, _name in COUNTRIES}
)

ALPHA3_CODES: Final[frozenset[str]] = frozenset(ALPHA3_TO_NUMERIC)
NUMERIC_CODES: Final[frozenset[str]] = frozenset(NUMERIC_TO_ALPHA3)


def is_alpha3(code: str) -> bool:
    """Whether ``code`` is a current ISO 3166-1 alpha-3 code (exact, uppercase)."""
    return code in ALPHA3_CODES


def is_numeric(code: str) -> bool:
    """Whether ``code`` is a current 3-digit ISO 3166-1 numeric code."""
    return code in NUMERIC_CODES
