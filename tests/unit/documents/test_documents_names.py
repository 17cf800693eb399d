"""real_name normalisation and character rules."""

from __future__ import annotations

import pytest

from identity.documents import DocumentError, normalise_name
from identity.documents import messages as m


def name_errors(raw: str) -> list[str]:
    with pytest.raises(DocumentError) as info:
        normalise_name(raw)
    assert list(info.value.errors) == ["real_name"]
    return info.value.errors["real_name"]


@pytest.mark.parametrize(
    "name",
    [
        "张三",
        "阿卜杜勒·艾尼",
        "O'Brien",
        "Jean-Luc Picard",
        "José",
        "サトウ・ハナコ",
        "བསྟན་འཛིན་རྒྱ་མཚོ",  # Tibetan, with tsheg syllable separators
        "ᠪᠠᠲᠤ",  # Mongolian script
        "ᠨᠠᠷᠠ᠋",  # Mongolian with a free variation selector (a combining mark)
        "ᠬᠠᠷ\u180eᠠ",  # Mongolian vowel separator inside the word
        "Батбаяр",  # Mongolian in Cyrillic
        "ئابدۇراخمان",  # Uyghur (Arabic script)
        "扎西·多吉",
        "김민준",
        "Nguyễn Văn An",
        "Zoë Ní Bhriain",
        "Ōtomo no Yakamochi",
        "Ngũgĩ wa Thiong'o",
        "ʻAkilisi Pōhiva",  # Tongan okina is a modifier letter
        "مهرداد",
        "علی\u200cرضا",  # Persian with a zero-width non-joiner
        "מִרְיָם",  # Hebrew with vowel points
        "Δημήτρης",
        "A",
    ],
)
def test_real_names_from_many_scripts_pass_unchanged(name: str) -> None:
    assert normalise_name(name) == name


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  张三  ", "张三"),
        ("Jean   Luc\u3000Picard", "Jean Luc Picard"),
        ("Mary\u00a0Jane", "Mary Jane"),
        ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"),  # fullwidth forms become ASCII
        ("ｻﾄｳ･ﾊﾅｺ", "サトウ・ハナコ"),  # halfwidth katakana and middle dot
        ("O\u2019Brien", "O'Brien"),  # typographic apostrophe from phone keyboards
        ("Jean\u2011Luc", "Jean-Luc"),  # non-breaking hyphen
        ("Jose\u0301", "José"),  # decomposed accent is composed by NFKC
        ("阿卜杜勒\u0387艾尼", "阿卜杜勒·艾尼"),  # Greek ano teleia is U+00B7 under NFKC
    ],
)
def test_names_are_nfkc_normalised_trimmed_and_whitespace_collapsed(raw: str, normalised: str) -> None:
    assert normalise_name(raw) == normalised


def test_katakana_middle_dot_survives_nfkc() -> None:
    assert normalise_name("サトウ\u30fbハナコ") == "サトウ\u30fbハナコ"


def test_64_letters_pass_and_65_fail() -> None:
    assert normalise_name("名" * 64) == "名" * 64
    assert name_errors("名" * 65) == [m.NAME_TOO_LONG]


def test_length_is_counted_after_trimming_and_collapsing() -> None:
    assert normalise_name("  " + "a" * 32 + "     " + "b" * 31 + "  ") == "a" * 32 + " " + "b" * 31


@pytest.mark.parametrize("raw", ["张3", "Anna 2", "张三١", "Louis 14"])
def test_digits_are_refused(raw: str) -> None:
    assert m.NAME_DIGITS in name_errors(raw)


@pytest.mark.parametrize(
    "raw", ["张三😀", "A&B", "Anna.", "Smith, John", "A/B", "Anna!", "王〇", "Zoë\u2764", "A+B", "Jean–Luc"]
)
def test_symbols_emoji_and_other_punctuation_are_refused(raw: str) -> None:
    assert name_errors(raw) == [m.NAME_CHARACTERS]


@pytest.mark.parametrize(
    "raw", ["\u0000", "张\u0000三", "Anna\tSmith", "Anna\nSmith", "Anna\u007f", "\u0085Anna"]
)
def test_control_characters_are_refused(raw: str) -> None:
    assert name_errors(raw) == [m.NAME_CONTROL]


@pytest.mark.parametrize("raw", ["", " ", "\u3000\u00a0"])
def test_empty_or_blank_name_is_required(raw: str) -> None:
    assert name_errors(raw) == [m.REQUIRED]


@pytest.mark.parametrize("raw", ["-", "·", "・", "'", "- -", "''", "་"])
def test_names_made_only_of_punctuation_fail(raw: str) -> None:
    assert m.NAME_NEEDS_LETTER in name_errors(raw)


@pytest.mark.parametrize("raw", ["·张三", "张三·", "-Anna", "Anna-", "・ハナコ"])
def test_names_may_not_start_or_end_with_a_middle_dot_or_hyphen(raw: str) -> None:
    assert name_errors(raw) == [m.NAME_EDGE_SEPARATOR]


def test_combining_mark_must_follow_a_letter() -> None:
    assert name_errors("\u0301Anna") == [m.NAME_DANGLING_MARK]
    assert name_errors("Anna \u0301") == [m.NAME_DANGLING_MARK]


def test_invisible_joiners_must_sit_between_letters() -> None:
    assert name_errors("\u200dAnna") == [m.NAME_DANGLING_JOINER]
    assert name_errors("Anna\u200c Lee") == [m.NAME_DANGLING_JOINER]


@pytest.mark.parametrize("raw", ["Anna\u200bLee", "Anna\u00adLee", "Anna\u2066Lee", "\ufeffAnna"])
def test_other_invisible_format_characters_are_refused(raw: str) -> None:
    assert name_errors(raw) == [m.NAME_CHARACTERS]


def test_unassigned_code_points_are_refused() -> None:
    assert name_errors("Anna\U000e0fff") == [m.NAME_CHARACTERS]


def test_several_problems_are_reported_once_each() -> None:
    assert name_errors("-张3&李4&") == [m.NAME_DIGITS, m.NAME_CHARACTERS, m.NAME_EDGE_SEPARATOR]


def test_non_string_name_is_refused() -> None:
    with pytest.raises(DocumentError) as info:
        normalise_name(None)  # type: ignore[arg-type]
    assert info.value.errors == {"real_name": [m.NOT_A_STRING]}


def test_huge_input_is_refused_as_too_long() -> None:
    assert name_errors("a" * 10_000) == [m.NAME_TOO_LONG]
