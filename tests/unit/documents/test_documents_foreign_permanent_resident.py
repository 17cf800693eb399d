"""cn_foreign_permanent_resident_id: the 2023-format 18-character number."""

from __future__ import annotations

import datetime

import pytest
from stdnum.iso7064 import mod_11_2

from identity.documents import Document, DocumentError, normalise_document
from identity.documents import messages as m

TODAY = datetime.date(2026, 5, 1)
FIELD = "id_document.number"
TYPE = "cn_foreign_permanent_resident_id"


def build(
    province: str = "31", nationality: str = "840", birth: str = "19850101", sequence: str = "001"
) -> str:
    body = "9" + province + nationality + birth + sequence
    return body + mod_11_2.calc_check_digit(body)


def fpr(number: str, today: datetime.date = TODAY) -> Document:
    return normalise_document(TYPE, number, None, today=today)


def number_errors(number: str, today: datetime.date = TODAY) -> list[str]:
    with pytest.raises(DocumentError) as info:
        fpr(number, today)
    assert list(info.value.errors) == [FIELD]
    return info.value.errors[FIELD]


def test_valid_number_is_accepted_with_its_birth_date() -> None:
    number = build()
    assert fpr(number) == Document(TYPE, number, None, datetime.date(1985, 1, 1))


@pytest.mark.parametrize(
    ("province", "nationality"), [("11", "826"), ("44", "392"), ("65", "643"), ("32", "410"), ("81", "036")]
)
def test_other_provinces_and_nationalities_are_accepted(province: str, nationality: str) -> None:
    assert fpr(build(province, nationality)).number.startswith("9" + province + nationality)


def test_lowercase_x_check_character_is_accepted_as_uppercase() -> None:
    sequence = next(s for s in (f"{n:03d}" for n in range(1000)) if build(sequence=s).endswith("X"))
    number = build(sequence=sequence)
    assert fpr(number.lower()).number == number


def test_spaces_and_fullwidth_digits_are_normalised() -> None:
    number = build()
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert fpr(f" {fullwidth[:6]} {fullwidth[6:14]}\u3000{fullwidth[14:]} ").number == number


def test_number_that_does_not_start_with_nine_is_refused() -> None:
    resident_id = "11010519491231002X"
    assert number_errors(resident_id) == [m.FPR_FIRST_DIGIT]


@pytest.mark.parametrize("province", ["00", "10", "16", "66", "83", "91", "99"])
def test_unknown_province_code_is_refused(province: str) -> None:
    assert number_errors(build(province=province)) == [m.FPR_PROVINCE]


@pytest.mark.parametrize("nationality", ["000", "999", "900", "530"])
def test_unknown_or_withdrawn_nationality_code_is_refused(nationality: str) -> None:
    # 530 was the Netherlands Antilles, withdrawn in 2010.
    assert number_errors(build(nationality=nationality)) == [m.FPR_NATIONALITY]


def test_birth_date_tomorrow_is_refused_and_today_accepted() -> None:
    assert number_errors(build(birth="20260502")) == [m.BIRTH_DATE_FUTURE]
    assert fpr(build(birth="20260501")).birth_date == TODAY


def test_birth_on_29_february_only_in_leap_years() -> None:
    assert fpr(build(birth="19880229")).birth_date == datetime.date(1988, 2, 29)
    assert number_errors(build(birth="19890229")) == [m.BIRTH_DATE_INVALID]


def test_birth_before_1900_is_refused() -> None:
    assert number_errors(build(birth="18991231")) == [m.BIRTH_DATE_TOO_EARLY]


def test_wrong_check_character_is_refused() -> None:
    number = build()
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    assert number_errors(wrong) == [m.CHECK_CHARACTER]


def test_2017_format_fifteen_character_number_is_refused_with_a_message_that_says_so() -> None:
    assert number_errors("USA310185010101") == [m.FPR_LEGACY_15]
    assert number_errors("usa 3101 8501 0101") == [m.FPR_LEGACY_15]


@pytest.mark.parametrize(
    "number", ["93184019850101001", "9318401985010100111", "9318401985X101001X", "A31840198501010013"]
)
def test_wrong_length_or_characters_are_refused(number: str) -> None:
    assert number_errors(number) == [m.FPR_FORMAT]


def test_all_problems_of_a_well_formed_number_are_reported_together() -> None:
    number = build(province="99", nationality="000", birth="20991231")
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    assert number_errors(wrong) == [m.FPR_PROVINCE, m.FPR_NATIONALITY, m.BIRTH_DATE_FUTURE, m.CHECK_CHARACTER]
