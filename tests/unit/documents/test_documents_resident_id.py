"""cn_resident_id: format, region, birth date and check character rules."""

from __future__ import annotations

import datetime

import pytest
from stdnum.cn import ric
from stdnum.iso7064 import mod_11_2

from identity.documents import Document, DocumentError, normalise_document
from identity.documents import messages as m
from identity.documents.regions import region_codes

TODAY = datetime.date(2026, 5, 1)
FIELD = "id_document.number"


def build(region: str, birth: str, sequence: str = "001") -> str:
    """A number with the right check character (computed by python-stdnum)."""
    body = region + birth + sequence
    return body + mod_11_2.calc_check_digit(body)


def flip_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def ric_doc(number: str, today: datetime.date = TODAY) -> Document:
    return normalise_document("cn_resident_id", number, None, today=today)


def number_errors(number: str, today: datetime.date = TODAY) -> list[str]:
    with pytest.raises(DocumentError) as info:
        ric_doc(number, today)
    assert list(info.value.errors) == [FIELD]
    return info.value.errors[FIELD]


def test_contract_example_is_valid_with_its_birth_date() -> None:
    doc = ric_doc("11010519491231002X")
    assert doc == Document("cn_resident_id", "11010519491231002X", None, datetime.date(1949, 12, 31))


def test_lowercase_x_check_digit_is_accepted_as_uppercase() -> None:
    assert ric_doc("11010519491231002x").number == "11010519491231002X"


def test_spaces_inside_the_number_are_dropped() -> None:
    assert ric_doc(" 110105 19491231 002X ").number == "11010519491231002X"


def test_ideographic_spaces_and_tabs_are_dropped_too() -> None:
    assert ric_doc("110105\u300019491231\t002X").number == "11010519491231002X"


def test_fullwidth_digits_and_fullwidth_x_are_normalised_to_ascii() -> None:
    assert ric_doc("１１０１０５１９４９１２３１００２ｘ").number == "11010519491231002X"


def test_other_scripts_digits_are_refused_not_converted() -> None:
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in "11010519491231002") + "X"
    assert number_errors(arabic_indic) == [m.RIC_FORMAT]


def test_fifteen_digit_first_generation_number_is_refused_with_a_message_that_says_so() -> None:
    errors = number_errors("110105491231002")
    assert errors == [m.RIC_LEGACY_15]
    assert "15-digit" in errors[0] and "18-character" in errors[0]


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002",
        "11010519491231002X1",
        "1101051949123100XX",
        "1101051949X231002X",
        "ABCDEFGHIJKLMNOPQR",
        "110105-19491231-002X",
    ],
)
def test_wrong_length_or_characters_are_refused(number: str) -> None:
    assert number_errors(number) == [m.RIC_FORMAT]


@pytest.mark.parametrize("number", ["", "   ", "\u3000"])
def test_empty_number_is_required(number: str) -> None:
    assert number_errors(number) == [m.REQUIRED]


def test_wrong_check_digit_is_refused() -> None:
    assert number_errors("110105194912310021") == [m.CHECK_CHARACTER]


def test_every_wrong_check_character_is_refused() -> None:
    valid = "11010519491231002X"
    for wrong in "0123456789":
        assert number_errors(valid[:17] + wrong) == [m.CHECK_CHARACTER]


def test_region_code_that_never_existed_is_refused() -> None:
    assert "110199" not in region_codes()
    assert number_errors(build("110199", "19800101")) == [m.RIC_REGION]


def test_region_code_abolished_but_historical_is_accepted() -> None:
    # 110103 Chongwen district, merged into Dongcheng in 2010.
    number = build("110103", "19750315")
    assert ric_doc(number).birth_date == datetime.date(1975, 3, 15)


def test_region_code_abolished_before_birth_is_still_accepted_where_stdnum_refuses() -> None:
    # stdnum checks the code was in use in the birth year; we accept any code
    # that ever existed (numbers are never reissued when counties change).
    number = build("110103", "20150101")
    assert not ric.is_valid(number)
    assert ric_doc(number).number == number


def test_region_code_created_after_birth_is_accepted_where_stdnum_refuses() -> None:
    # 110111 Fangshan district exists from 1986; its residents born earlier hold it.
    number = build("110111", "19490101", "001")
    assert not ric.is_valid(number)
    assert ric_doc(number).birth_date == datetime.date(1949, 1, 1)


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_hong_kong_macau_and_taiwan_residence_permit_codes_are_accepted(region: str) -> None:
    number = build(region, "19800101")
    assert ric_doc(number).number == number


def test_number_starting_with_nine_points_to_the_foreign_permanent_resident_type() -> None:
    number = build("931840", "19850101")
    assert number_errors(number) == [m.RIC_FOREIGNER_NUMBER]


def test_born_on_29_february_in_a_leap_year_is_accepted() -> None:
    assert ric_doc(build("110105", "20000229")).birth_date == datetime.date(2000, 2, 29)


@pytest.mark.parametrize("birth", ["20230229", "19000229", "21000229"])
def test_29_february_in_a_non_leap_year_is_refused(birth: str) -> None:
    # 1900 and 2100 are not leap years (century rule).
    assert m.BIRTH_DATE_INVALID in number_errors(build("110105", birth))


@pytest.mark.parametrize("birth", ["19801301", "19800001", "19800100", "19800431", "00000000"])
def test_impossible_calendar_dates_are_refused(birth: str) -> None:
    assert number_errors(build("110105", birth)) == [m.BIRTH_DATE_INVALID]


def test_birth_date_today_is_accepted() -> None:
    assert ric_doc(build("110105", "20260501")).birth_date == TODAY


def test_birth_date_tomorrow_is_refused() -> None:
    assert number_errors(build("110105", "20260502")) == [m.BIRTH_DATE_FUTURE]


def test_today_is_what_decides_the_future_not_the_clock() -> None:
    number = build("110105", "20260502")
    assert ric_doc(number, today=datetime.date(2026, 5, 2)).birth_date == datetime.date(2026, 5, 2)


def test_today_given_as_a_datetime_is_read_as_its_date() -> None:
    number = build("110105", "20260501")
    assert ric_doc(number, today=datetime.datetime(2026, 5, 1, 23, 59)).birth_date == TODAY


def test_birth_before_1900_is_refused_even_with_a_right_check_character() -> None:
    # GB 11643's own worked example (born 1880) has a right check character.
    assert number_errors("440524188001010014") == [m.BIRTH_DATE_TOO_EARLY]
    assert number_errors(build("110105", "18991231")) == [m.BIRTH_DATE_TOO_EARLY]


def test_birth_on_1_january_1900_is_the_earliest_accepted() -> None:
    assert ric_doc(build("110105", "19000101")).birth_date == datetime.date(1900, 1, 1)


def test_all_problems_of_a_well_formed_number_are_reported_together() -> None:
    number = flip_check(build("110199", "20300101"))
    assert number_errors(number) == [m.RIC_REGION, m.BIRTH_DATE_FUTURE, m.CHECK_CHARACTER]


def test_issuing_country_is_ignored_for_a_resident_id() -> None:
    doc = normalise_document("cn_resident_id", "11010519491231002X", "CHN", today=TODAY)
    assert doc.issuing_country is None


def test_agrees_with_stdnum_where_stdnum_has_no_year_restriction() -> None:
    # 110105 Chaoyang carries no year range in stdnum's table.
    for birth in ["19491231", "19800101", "20000229", "20101010"]:
        for sequence in ["001", "123", "998"]:
            good = build("110105", birth, sequence)
            assert ric.is_valid(good)
            assert ric_doc(good).number == good
            bad = flip_check(good)
            assert not ric.is_valid(bad)
            with pytest.raises(DocumentError):
                ric_doc(bad)
