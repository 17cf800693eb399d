"""Small text helpers shared by the validators."""

from __future__ import annotations

import unicodedata
from typing import Final

ASCII_DIGITS: Final = frozenset("0123456789")
ASCII_LETTERS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
ASCII_ALNUM: Final = ASCII_DIGITS | ASCII_LETTERS

#: Inputs longer than this are refused before any Unicode processing (NFKC can
#: expand a character up to 18 times, and nothing valid here is this long).
MAX_RAW_LENGTH: Final = 1024


def compact_identifier(raw: str) -> str:
    """NFKC-normalise and drop all whitespace.

    NFKC turns fullwidth digits and letters (as typed with a Chinese input
    method) into ASCII and the ideographic space into an ordinary space.
    Case is left alone: callers uppercase only after checking the characters
    are ASCII, because ``str.upper`` maps some non-ASCII letters to ASCII
    (the German sharp s becomes SS).
    """
    return "".join(unicodedata.normalize("NFKC", raw).split())


def is_ascii_digits(value: str) -> bool:
    """Non-empty and only 0-9 (``str.isdigit`` would accept other scripts' digits)."""
    return bool(value) and set(value) <= ASCII_DIGITS


def is_ascii_alnum(value: str) -> bool:
    """Non-empty and only A-Z, a-z, 0-9."""
    return bool(value) and set(value) <= ASCII_ALNUM
