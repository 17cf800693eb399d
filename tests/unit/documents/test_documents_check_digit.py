"""GB 11643 / ISO 7064 MOD 11-2 check character, against independent computations."""

from __future__ import annotations

import pytest
from stdnum.iso7064 import mod_11_2

from identity.documents.checkdigit import gb11643_check_character, has_valid_check_character

GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def iso7064_recursive_check(body: str) -> str:
    """ISO 7064 MOD 11-2 by the standard's recursive (pure system) method.

    p <- (p + digit) * 2 mod 11 for each digit; the check value c makes
    (p + c) mod 11 == 1.  Written independently of the weighted-sum form.
    """
    p = 0
    for digit in body:
        p = (p + int(digit)) * 2 % 11
    c = (1 - p) % 11
    return "X" if c == 10 else str(c)


@pytest.mark.parametrize("position", range(17))
def test_each_digit_carries_its_gb11643_weight(position: int) -> None:
    # A single 1 at one position makes the weighted sum that position's weight.
    body = "0" * position + "1" + "0" * (16 - position)
    value = (12 - GB11643_WEIGHTS[position] % 11) % 11
    assert gb11643_check_character(body) == ("X" if value == 10 else str(value))


@pytest.mark.parametrize(
    ("number", "source"),
    [
        ("11010519491231002X", "GB 11643-1999 worked example, Beijing Chaoyang"),
        ("440524188001010014", "GB 11643-1999 worked example, Guangdong Chaoyang county"),
        ("360426199101010071", "python-stdnum cn.ric doctest"),
    ],
)
def test_published_vectors_have_the_check_character_we_compute(number: str, source: str) -> None:
    assert gb11643_check_character(number[:17]) == number[17], source
    assert has_valid_check_character(number)


def test_check_value_ten_is_written_as_uppercase_x() -> None:
    assert gb11643_check_character("11010519491231002") == "X"


@pytest.mark.parametrize(
    "body",
    [
        "00000000000000000",
        "99999999999999999",
        "12345678901234567",
        "11010519491231002",
        "31011520010229123",
        "96584019850101001",
    ],
)
def test_check_character_matches_recursive_method_and_stdnum(body: str) -> None:
    expected = iso7064_recursive_check(body)
    assert gb11643_check_character(body) == expected
    assert mod_11_2.calc_check_digit(body) == expected


def test_every_check_value_from_zero_to_x_occurs() -> None:
    seen = {gb11643_check_character(f"1101051949123{n:04d}") for n in range(200)}
    assert seen == set("0123456789X")


@pytest.mark.parametrize(
    "body",
    ["1101051949123100", "110105194912310021", "1101051949123100A", "１１０１０５１９４９１２３１００２"],
)
def test_check_character_refuses_a_body_that_is_not_17_ascii_digits(body: str) -> None:
    with pytest.raises(ValueError):
        gb11643_check_character(body)


def test_lowercase_x_is_not_a_valid_check_character_before_normalisation() -> None:
    assert not has_valid_check_character("11010519491231002x")
