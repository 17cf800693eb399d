"""Document value, index material, masking, ages and the error type."""

from __future__ import annotations

import dataclasses
import datetime
import json
import pickle

import pytest

from identity.documents import Document, DocumentError, age_on, mask, normalise_document

TODAY = datetime.date(2026, 5, 1)


# Document -----------------------------------------------------------------------------


def test_document_is_frozen() -> None:
    doc = normalise_document("tw_travel_permit", "12345678", None, today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.number = "87654321"  # type: ignore[misc]


def test_document_repr_does_not_show_the_number_or_birth_date() -> None:
    doc = normalise_document("cn_resident_id", "11010519491231002X", None, today=TODAY)
    assert "11010519491231002X" not in repr(doc)
    assert "1949" not in repr(doc)


def test_index_material_is_sorted_compact_json_of_type_number_and_country() -> None:
    doc = normalise_document("cn_resident_id", "11010519491231002x", None, today=TODAY)
    material = doc.index_material()
    assert material == b'{"country":null,"number":"11010519491231002X","type":"cn_resident_id","v":1}'
    assert json.loads(material) == {
        "country": None,
        "number": "11010519491231002X",
        "type": "cn_resident_id",
        "v": 1,
    }


def test_index_material_is_the_same_for_differently_written_inputs() -> None:
    a = normalise_document("cn_resident_id", "11010519491231002x", None, today=TODAY)
    b = normalise_document("cn_resident_id", " 110105 19491231 002X", None, today=TODAY)
    c = normalise_document(
        "cn_resident_id", "１１０１０５１９４９１２３１００２Ｘ", None, today=datetime.date(2030, 1, 1)
    )
    assert a.index_material() == b.index_material() == c.index_material()


def test_passport_index_material_includes_the_issuing_country() -> None:
    chn = normalise_document("passport", "E12345678", "CHN", today=TODAY)
    fra = normalise_document("passport", "E12345678", "fra", today=TODAY)
    assert chn.index_material() != fra.index_material()
    assert json.loads(fra.index_material())["country"] == "FRA"


def test_same_number_under_different_types_gives_different_index_material() -> None:
    tw = normalise_document("tw_travel_permit", "12345678", None, today=TODAY)
    passport = normalise_document("passport", "12345678", "TWN", today=TODAY)
    assert tw.index_material() != passport.index_material()


def test_index_material_cannot_be_confused_by_separator_characters() -> None:
    # Field boundaries are JSON-quoted, so no concatenation of type and number collides.
    one = Document("passport", "AB", "CHN", None)
    two = Document("passport", "A", "BCHN", None)
    assert one.index_material() != two.index_material()


def test_masked_number_keeps_first_three_and_last_two() -> None:
    doc = normalise_document("cn_resident_id", "11010519491231002X", None, today=TODAY)
    assert doc.masked_number() == "110*************2X"


# mask ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+8613800138000", "+86*********00"),
        ("12345678", "123***78"),
        ("H12345678", "H12****78"),
        ("E12345678", "E12****78"),
        ("1234567", "*******"),
        ("A1234", "*****"),
        ("ab", "**"),
        ("", ""),
    ],
)
def test_mask_keeps_first_three_and_last_two_and_fully_masks_short_values(value: str, masked: str) -> None:
    assert mask(value) == masked


# age_on -------------------------------------------------------------------------------


def test_age_counts_completed_years() -> None:
    born = datetime.date(1990, 6, 15)
    assert age_on(born, datetime.date(2026, 6, 14)) == 35
    assert age_on(born, datetime.date(2026, 6, 15)) == 36
    assert age_on(born, datetime.date(2026, 12, 31)) == 36


def test_born_today_is_zero_years_old() -> None:
    assert age_on(TODAY, TODAY) == 0


def test_feb_29_birthday_turns_older_on_1_march_in_non_leap_years() -> None:
    born = datetime.date(2008, 2, 29)
    assert age_on(born, datetime.date(2026, 2, 28)) == 17
    assert age_on(born, datetime.date(2026, 3, 1)) == 18


def test_feb_29_birthday_turns_older_on_29_february_in_leap_years() -> None:
    born = datetime.date(2008, 2, 29)
    assert age_on(born, datetime.date(2028, 2, 28)) == 19
    assert age_on(born, datetime.date(2028, 2, 29)) == 20


def test_age_before_birth_is_an_error() -> None:
    with pytest.raises(ValueError):
        age_on(datetime.date(2026, 5, 2), TODAY)


def test_age_accepts_datetimes_as_days() -> None:
    assert age_on(datetime.date(2008, 5, 1), datetime.datetime(2026, 5, 1, 0, 1)) == 18


# DocumentError ------------------------------------------------------------------------


def test_document_error_is_a_value_error_with_field_messages() -> None:
    exc = DocumentError({"phone": ["is required"], "real_name": ["is required"]})
    assert isinstance(exc, ValueError)
    assert exc.errors == {"phone": ["is required"], "real_name": ["is required"]}
    assert str(exc) == "phone: is required; real_name: is required"


def test_document_error_survives_pickling() -> None:
    exc = DocumentError({"phone": ["is required"]})
    copy = pickle.loads(pickle.dumps(exc))
    assert isinstance(copy, DocumentError) and copy.errors == exc.errors and str(copy) == str(exc)


def test_document_error_needs_at_least_one_message() -> None:
    with pytest.raises(ValueError):
        DocumentError({})
    with pytest.raises(ValueError):
        DocumentError({"phone": []})


def test_merge_errors_combines_fields_in_order_without_duplicates() -> None:
    from identity.documents.errors import merge_errors

    merged = merge_errors(
        DocumentError({"real_name": ["is required"]}),
        None,
        DocumentError({"phone": ["is required"], "real_name": ["is required", "must not contain digits"]}),
    )
    assert merged is not None
    assert merged.errors == {
        "real_name": ["is required", "must not contain digits"],
        "phone": ["is required"],
    }
    assert merge_errors(None, None) is None
