"""Real names: normalisation and the character rules.

Steps, in order:

1. NFKC.  Fullwidth Latin letters become ASCII, halfwidth katakana (and the
   halfwidth middle dot) become their full forms, the ideographic space and
   no-break spaces become ordinary spaces.  NFKC leaves the katakana middle
   dot U+30FB and the middle dot U+00B7 as they are (the Greek ano teleia
   U+0387 becomes U+00B7).
2. Two typographic forms are read as their ASCII equivalents: the right
   single quotation mark U+2019 (what phone keyboards with "smart
   punctuation" type for an apostrophe, as in O'Brien) becomes U+0027, and
   the Unicode hyphen U+2010 (NFKC's form of the non-breaking hyphen) becomes
   U+002D.  No other look-alikes are mapped.
3. Control characters (category Cc, which includes tab and newline) are
   refused.  Then the name is trimmed and every run of whitespace inside it
   becomes one space.
4. 1 to 64 characters (code points, counted after the steps above).
5. Allowed: letters (categories L*), combining marks (M*), space, middle dot
   U+00B7, katakana middle dot U+30FB, hyphen-minus, apostrophe; also three
   characters that real scripts need inside words: the Tibetan syllable
   separator tsheg U+0F0B, the zero-width non-joiner and joiner
   U+200C/U+200D (Persian, Indic scripts) and the Mongolian vowel separator
   U+180E.  Digits, symbols (emoji included), other punctuation, unassigned
   code points and other format characters are refused.
6. At least one letter.  A combining mark must follow a letter or another
   mark; a joiner or vowel separator must sit between letters or marks.  A
   name may not start or end with a middle dot or a hyphen.  Names made only
   of punctuation fail here.

No message quotes the input, and none contains a punctuation glyph.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from . import messages
from .errors import DocumentError
from .text import MAX_RAW_LENGTH

NAME_MAX_LENGTH: Final = 64

MIDDLE_DOT: Final = "\u00b7"
KATAKANA_MIDDLE_DOT: Final = "\u30fb"
_HYPHEN: Final = "-"
_APOSTROPHE: Final = "'"
_TSHEG: Final = "\u0f0b"
_IN_WORD_JOINERS: Final = frozenset({"\u200c", "\u200d", "\u180e"})
_SEPARATORS: Final = frozenset({" ", MIDDLE_DOT, KATAKANA_MIDDLE_DOT, _HYPHEN, _APOSTROPHE, _TSHEG})
_EDGE_FORBIDDEN: Final = frozenset({MIDDLE_DOT, KATAKANA_MIDDLE_DOT, _HYPHEN})
_TYPOGRAPHIC: Final = str.maketrans({"\u2019": _APOSTROPHE, "\u2010": _HYPHEN})
_WHITESPACE_RUN: Final = re.compile(r"\s+")


def _fail(*reasons: str) -> DocumentError:
    return DocumentError({messages.FIELD_NAME: list(dict.fromkeys(reasons))})


def _is_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L")


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def normalise_name(raw: str) -> str:
    """Normalise and validate a real name; raises DocumentError({'real_name': [...]})."""
    if not isinstance(raw, str):
        raise _fail(messages.NOT_A_STRING)
    if len(raw) > MAX_RAW_LENGTH:
        raise _fail(messages.NAME_TOO_LONG)
    text = unicodedata.normalize("NFKC", raw).translate(_TYPOGRAPHIC)
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise _fail(messages.NAME_CONTROL)
    name = _WHITESPACE_RUN.sub(" ", text).strip(" ")
    if not name:
        raise _fail(messages.REQUIRED)

    reasons: list[str] = []
    if len(name) > NAME_MAX_LENGTH:
        reasons.append(messages.NAME_TOO_LONG)

    has_letter = False
    for index, char in enumerate(name):
        previous = name[index - 1] if index > 0 else ""
        following = name[index + 1] if index + 1 < len(name) else ""
        if _is_letter(char):
            has_letter = True
        elif _is_mark(char):
            if not previous or not (_is_letter(previous) or _is_mark(previous)):
                reasons.append(messages.NAME_DANGLING_MARK)
        elif char in _IN_WORD_JOINERS:
            if not (previous and following) or not (
                (_is_letter(previous) or _is_mark(previous))
                and (_is_letter(following) or _is_mark(following))
            ):
                reasons.append(messages.NAME_DANGLING_JOINER)
        elif char in _SEPARATORS:
            pass
        elif unicodedata.category(char) == "Nd" or char.isdigit():
            reasons.append(messages.NAME_DIGITS)
        else:
            reasons.append(messages.NAME_CHARACTERS)

    if not has_letter:
        reasons.append(messages.NAME_NEEDS_LETTER)
    if name[0] in _EDGE_FORBIDDEN or name[-1] in _EDGE_FORBIDDEN:
        reasons.append(messages.NAME_EDGE_SEPARATOR)
    if reasons:
        raise _fail(*reasons)
    return name
