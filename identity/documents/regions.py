"""Chinese administrative division codes (GB/T 2260) for identity numbers.

Data source
-----------
The table is python-stdnum's ``stdnum/cn/loc.dat`` (the data behind
``stdnum.cn.ric``), read through ``stdnum.numdb``.  It is compiled from
Wikipedia's lists of PRC administrative division codes and keeps *historical*
codes: an entry such as ``110103 county="[-2010]崇文区"`` (Chongwen district,
merged into Dongcheng in 2010) carries the years in which it was in use.

How stdnum uses it, and why we differ
-------------------------------------
``stdnum.cn.ric.validate`` calls ``get_birth_place``, which refuses a number
unless its county code was in use *in the holder's birth year*.  Real numbers
break that rule: an 18-digit number is assigned when a person is first
registered (or when the 15-digit number was converted in 1999), often years
after birth, and it never changes afterwards, even when the county is later
renamed, merged or abolished.  Examples stdnum refuses but which are real:

* ``110111`` (Fangshan, from 1986) for someone born in 1949;
* ``810000`` / ``820000`` (Hong Kong / Macau, from 1997 / 1999 in the table)
  on the Residence Permits for Hong Kong and Macau residents issued since
  2018 to people born long before.

So we accept a code if it *ever* appears in the table, whatever the years.

Supplement
----------
``830000`` is added: the State Council's 2018 Measures on Residence Permits
for Hong Kong, Macau and Taiwan Residents (《港澳台居民居住证申领发放办法》,
article 3) assign address codes 810000, 820000 and 830000 to residents of
Hong Kong, Macau and Taiwan, and those permits carry a citizen identity
number in the GB 11643 format.  The stdnum table lists Taiwan under 71 but
not 83.  Province-level codes (used for the Foreigner's Permanent Residence
ID Card) come from the table alone, without the supplement.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from stdnum import numdb

#: Codes not in stdnum's table that real GB 11643 numbers use (see above).
SUPPLEMENTARY_REGION_CODES: Final[frozenset[str]] = frozenset({"830000"})


def _expand(low: str, high: str) -> list[str]:
    """Every zero-padded code in a numdb range such as ``0101-0105``."""
    if len(low) != len(high) or not (low.isdecimal() and high.isdecimal()):
        raise RuntimeError("unexpected range in stdnum cn/loc table")
    width = len(low)
    return [str(value).zfill(width) for value in range(int(low), int(high) + 1)]


@cache
def _table() -> tuple[frozenset[str], frozenset[str]]:
    """(all 6-digit codes ever listed, 2-digit province codes), from stdnum."""
    database = numdb.get("cn/loc")
    codes: set[str] = set()
    provinces: set[str] = set()
    for length, low, high, _props, children in database.prefixes:
        if length != 2:
            raise RuntimeError("unexpected province entry in stdnum cn/loc table")
        for province in _expand(low, high):
            provinces.add(province)
            for child_length, child_low, child_high, _child_props, grandchildren in children:
                if child_length != 4 or grandchildren:
                    raise RuntimeError("unexpected county entry in stdnum cn/loc table")
                codes.update(province + county for county in _expand(child_low, child_high))
    if len(codes) < 3000 or len(provinces) < 30:
        raise RuntimeError("stdnum cn/loc table looks truncated")
    return frozenset(codes), frozenset(provinces)


def region_codes() -> frozenset[str]:
    """Every 6-digit region code accepted in a Resident Identity Card number."""
    return _table()[0] | SUPPLEMENTARY_REGION_CODES


def province_codes() -> frozenset[str]:
    """The 2-digit province-level codes of the table (11 ... 65, 71, 81, 82)."""
    return _table()[1]


def is_region_code(code: str) -> bool:
    """Whether a 6-digit code exists, or once existed, in GB/T 2260."""
    return code in SUPPLEMENTARY_REGION_CODES or code in _table()[0]


def is_province_code(code: str) -> bool:
    """Whether a 2-digit code is a province-level division in the table."""
    return code in _table()[1]
