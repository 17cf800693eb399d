"""GB 11643-1999 check character (ISO 7064:1983, MOD 11-2).

Implemented from the standard itself, not taken from a library:

* the 17 body digits a1..a17 (left to right) carry the weights
  ``W_i = 2**(17 - i) mod 11`` for i = 0..16, that is
  7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2;
* ``S = sum(a_i * W_i)``;
* the check value is ``(12 - S mod 11) mod 11`` (equivalently the value
  ``c`` with ``S + c == 1 (mod 11)``), written ``X`` when it is 10.

The same check character closes both the Resident Identity Card number
(GB 11643-1999) and the 2023-format Foreigner's Permanent Residence ID Card
number (GA 2102-2023, which adopts GB 11643's MOD 11-2).
"""

from __future__ import annotations

from typing import Final

WEIGHTS: Final[tuple[int, ...]] = tuple(pow(2, 17 - i, 11) for i in range(17))

_ASCII_DIGITS: Final = frozenset("0123456789")


def gb11643_check_character(body: str) -> str:
    """Return the check character ('0'-'9' or 'X') for 17 ASCII digits."""
    if len(body) != 17 or not set(body) <= _ASCII_DIGITS:
        raise ValueError("the body must be exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


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
