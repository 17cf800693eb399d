"""phone: E.164, valid for its country."""

from __future__ import annotations

import pytest

from identity.documents import DocumentError, normalise_phone
from identity.documents import messages as m


def phone_errors(raw: object) -> list[str]:
    with pytest.raises(DocumentError) as info:
        normalise_phone(raw)  # type: ignore[arg-type]
    assert list(info.value.errors) == ["phone"]
    return info.value.errors["phone"]


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+8613800138000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+86-138-0013-8000", "+8613800138000"),
        ("+86 010 6552 9988", "+861065529988"),  # trunk 0 after the country code
        ("+852 9123 4567", "+85291234567"),
        ("+853 6612 3456", "+85366123456"),
        ("+886 912 345 678", "+886912345678"),
        ("+44 (0)20 7946 0958", "+442079460958"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("+33 6.12.34.56.78", "+33612345678"),
        ("  +8613800138000  ", "+8613800138000"),
        ("＋８６　１３８００１３８０００", "+8613800138000"),  # fullwidth, as typed with a Chinese IME
    ],
)
def test_valid_international_numbers_are_returned_in_e164(raw: str, e164: str) -> None:
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["13800138000", "008613800138000", "86 138 0013 8000", "(0)20 7946 0958"])
def test_number_without_leading_plus_is_refused(raw: str) -> None:
    assert phone_errors(raw) == [m.PHONE_NEEDS_PLUS]


@pytest.mark.parametrize(
    "raw",
    [
        "+1 800 FLOWERS",
        "+1 650 253 0000 ext. 123",
        "+8613800138000;ext=1",
        "+86 138+0013+8000",
        "+86_13800138000",
        "+86\u0661\u0663\u0668",
    ],
)
def test_letters_extensions_and_stray_characters_are_refused(raw: str) -> None:
    assert phone_errors(raw) == [m.PHONE_CHARACTERS]


@pytest.mark.parametrize("raw", ["+86 123", "+8612345678901234", "+999 12345678", "+1 555 0100", "+44 1234"])
def test_numbers_not_valid_for_their_country_are_refused(raw: str) -> None:
    assert phone_errors(raw) in ([m.PHONE_INVALID], [m.PHONE_UNPARSEABLE])


def test_plus_with_nothing_usable_is_unparseable() -> None:
    assert phone_errors("+()") == [m.PHONE_UNPARSEABLE]


@pytest.mark.parametrize("raw", ["", "   "])
def test_empty_phone_is_required(raw: str) -> None:
    assert phone_errors(raw) == [m.REQUIRED]


def test_non_string_phone_is_refused() -> None:
    assert phone_errors(8613800138000) == [m.NOT_A_STRING]


def test_huge_phone_input_is_refused() -> None:
    assert phone_errors("+" + "1" * 5000) == [m.PHONE_UNPARSEABLE]
