"""GB 11643-1999 check character (ISO 7064:1983, MOD 11-2), from python-stdnum.

The check value ``c`` makes ``S + c == 1 (mod 11)`` where ``S`` is the sum of the 17 body
digits weighted ``2**(17 - i) mod 11``; it is written ``X`` when it is 10. The same check
character closes both the Resident Identity Card number (GB 11643-1999) and the 2023-format
Foreigner's Permanent Residence ID Card number (GA 2102-2023, which adopts GB 11643's MOD 11-2).

The computation is `stdnum.iso7064.mod_11_2`'s; this module only pins down the input it
accepts (exactly 17 ASCII digits: stdnum's own check would also take other lengths and, via
``int()``, non-ASCII digits).
"""

from __future__ import annotations

from typing import Final

from stdnum.iso7064 import mod_11_2

_ASCII_DIGITS: Final = frozenset("0123456789")


def gb11643_check_character(body: str) -> str:
    """Return the check character ('0'-'9' or 'X') for 17 ASCII digits."""
    if len(body) != 17 or not set(body) <= _ASCII_DIGITS:
        raise ValueError("the body must be exactly 17 ASCII digits")
    return mod_11_2.calc_check_digit(body)


def has_valid_check_character(number: str) -> bool:
    """Whether an 18-character number ends with the right check character.

    The last character must already be uppercase (``X``, not ``x``).
    """
    if len(number) != 18:
        return False
    body, check = number[:17], number[17]
    if not set(body) <= _ASCII_DIGITS:
        return False
    return gb11643_check_character(body) == check
