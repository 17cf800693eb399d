"""Hong Kong/Macau and Taiwan permits, passports and the document type."""

from __future__ import annotations

import datetime

import pytest

from identity.documents import DOCUMENT_TYPES, Document, DocumentError, normalise_document
from identity.documents import messages as m
from identity.documents.countries import ALPHA3_TO_NUMERIC, COUNTRIES, NUMERIC_TO_ALPHA3

TODAY = datetime.date(2026, 5, 1)


def doc(doc_type: str, number: str, country: str | None = None) -> Document:
    return normalise_document(doc_type, number, country, today=TODAY)


def errors_of(doc_type: str, number: str, country: str | None = None) -> dict[str, list[str]]:
    with pytest.raises(DocumentError) as info:
        doc(doc_type, number, country)
    return info.value.errors


def test_document_types_are_the_five_contract_names_in_order() -> None:
    assert DOCUMENT_TYPES == (
        "cn_resident_id",
        "cn_foreign_permanent_resident_id",
        "hk_macau_travel_permit",
        "tw_travel_permit",
        "passport",
    )


@pytest.mark.parametrize("doc_type", ["", "Passport", "PASSPORT", " passport", "id_card", "cn_resident"])
def test_unknown_document_type_is_refused_on_the_type_field(doc_type: str) -> None:
    errors = errors_of(doc_type, "E12345678", "CHN")
    assert list(errors) == ["id_document.type"]
    assert errors["id_document.type"] == [m.REQUIRED if doc_type == "" else m.UNKNOWN_TYPE]


# Hong Kong / Macau --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("H12345678", "H12345678"),
        ("M1234567801", "M1234567801"),
        ("h 1234 5678", "H12345678"),
        ("ｍ１２３４５６７８", "M12345678"),
    ],
)
def test_hk_macau_permit_is_h_or_m_then_8_or_10_digits(raw: str, normalised: str) -> None:
    permit = doc("hk_macau_travel_permit", raw)
    assert permit == Document("hk_macau_travel_permit", normalised, None, None)


@pytest.mark.parametrize(
    "raw",
    [
        "H1234567",
        "H123456789",
        "H12345678901",
        "K12345678",
        "12345678",
        "HH1234567",
        "H1234567A",
        "H(1234567)8",
    ],
)
def test_hk_macau_permit_other_shapes_are_refused(raw: str) -> None:
    assert errors_of("hk_macau_travel_permit", raw) == {"id_document.number": [m.HKM_FORMAT]}


def test_hk_macau_permit_has_no_birth_date_and_ignores_issuing_country() -> None:
    permit = doc("hk_macau_travel_permit", "H12345678", "HKG")
    assert permit.birth_date is None and permit.issuing_country is None


def test_hk_macau_renewed_permit_forms_share_index_material_with_the_lifetime_number() -> None:
    card = doc("hk_macau_travel_permit", "H12345678")
    first_issue = doc("hk_macau_travel_permit", "H1234567800")
    renewed = doc("hk_macau_travel_permit", "H1234567803")
    assert card.index_material() == first_issue.index_material() == renewed.index_material()
    assert first_issue.number == "H1234567800"  # the number itself is kept as given


def test_hong_kong_and_macau_permits_with_the_same_digits_are_different_people() -> None:
    assert (
        doc("hk_macau_travel_permit", "H12345678").index_material()
        != doc("hk_macau_travel_permit", "M12345678").index_material()
    )


# Taiwan -------------------------------------------------------------------------------


def test_tw_permit_is_8_digits_with_spaces_dropped() -> None:
    assert doc("tw_travel_permit", "1234 5678") == Document("tw_travel_permit", "12345678", None, None)


@pytest.mark.parametrize("raw", ["1234567", "123456789", "1234567A", "T1234567", "1234567890B"])
def test_tw_permit_other_shapes_are_refused(raw: str) -> None:
    assert errors_of("tw_travel_permit", raw) == {"id_document.number": [m.TW_FORMAT]}


# Passports ----------------------------------------------------------------------------


def test_passport_number_and_country_are_uppercased_and_spaces_dropped() -> None:
    assert doc("passport", " e123 45678 ", " chn ") == Document("passport", "E12345678", "CHN", None)


@pytest.mark.parametrize("country", [None, "", "   "])
def test_passport_requires_issuing_country(country: str | None) -> None:
    assert errors_of("passport", "E12345678", country) == {
        "id_document.issuing_country": [m.COUNTRY_REQUIRED_FOR_PASSPORT]
    }


@pytest.mark.parametrize("country", ["CN", "CHINA", "XXX", "D", "UNO", "RKS", "XKX", "ANT", "SCG", "C1N", "ÇHN"])
def test_passport_issuing_country_must_be_a_current_iso_alpha3_code(country: str) -> None:
    # Two-letter codes, names, ICAO-only codes (D, UNO, RKS), user-assigned (XKX) and withdrawn codes are refused.
    assert errors_of("passport", "E12345678", country) == {
        "id_document.issuing_country": [m.COUNTRY_NOT_ALPHA3]
    }


@pytest.mark.parametrize("country", ["HKG", "MAC", "TWN", "GBR", "USA", "DEU", "SSD", "PSE", "ＪＰＮ"])
def test_passport_issuing_country_accepts_iso_alpha3_codes(country: str) -> None:
    assert doc("passport", "AB12345", country).issuing_country is not None


@pytest.mark.parametrize("number", ["1234", "A" * 21, "E1234-5678", "E1234567.", "É12345678", "E12345678ß"])
def test_passport_number_must_be_5_to_20_ascii_letters_and_digits(number: str) -> None:
    assert errors_of("passport", number, "CHN") == {"id_document.number": [m.PASSPORT_FORMAT]}


def test_passport_number_sharp_s_is_not_turned_into_ss() -> None:
    assert errors_of("passport", "strasße1", "DEU") == {"id_document.number": [m.PASSPORT_FORMAT]}


def test_passport_number_length_bounds_are_inclusive() -> None:
    assert doc("passport", "A1234", "FRA").number == "A1234"
    assert doc("passport", "A" * 20, "FRA").number == "A" * 20


def test_passport_number_and_country_problems_are_reported_together() -> None:
    assert errors_of("passport", "12", "ZZZ") == {
        "id_document.number": [m.PASSPORT_FORMAT],
        "id_document.issuing_country": [m.COUNTRY_NOT_ALPHA3],
    }


def test_passport_missing_number_and_country_are_reported_together() -> None:
    with pytest.raises(DocumentError) as info:
        normalise_document("passport", None, None, today=TODAY)  # type: ignore[arg-type]
    assert info.value.errors == {
        "id_document.number": [m.REQUIRED],
        "id_document.issuing_country": [m.COUNTRY_REQUIRED_FOR_PASSPORT],
    }


def test_number_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(DocumentError) as info:
        normalise_document("tw_travel_permit", 12345678, None, today=TODAY)  # type: ignore[arg-type]
    assert info.value.errors == {"id_document.number": [m.NOT_A_STRING]}


def test_huge_number_is_refused_before_any_processing() -> None:
    assert errors_of("passport", "A" * 5000, "CHN") == {"id_document.number": [m.TOO_LONG_INPUT]}


# Country data -------------------------------------------------------------------------


def test_country_table_is_the_full_iso_3166_1_list() -> None:
    assert len(COUNTRIES) == 249
    assert len(ALPHA3_TO_NUMERIC) == len(NUMERIC_TO_ALPHA3) == 249
    assert ALPHA3_TO_NUMERIC["CHN"] == "156"
    assert ALPHA3_TO_NUMERIC["USA"] == "840"
    assert NUMERIC_TO_ALPHA3["036"] == "AUS"
    for alpha3, numeric, alpha2, name in COUNTRIES:
        assert len(alpha3) == 3 and alpha3.isascii() and alpha3.isupper()
        assert len(numeric) == 3 and numeric.isdigit()
        assert len(alpha2) == 2 and alpha2.isupper() and name
