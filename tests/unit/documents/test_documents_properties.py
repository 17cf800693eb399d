"""Property tests (hypothesis) for the 18-character numbers, names and masking."""

from __future__ import annotations

import datetime

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.iso7064 import mod_11_2

from identity.documents import DocumentError, mask, normalise_document, normalise_name
from identity.documents.countries import NUMERIC_CODES
from identity.documents.regions import province_codes, region_codes

TODAY = datetime.date(2026, 5, 1)
EARLIEST = datetime.date(1900, 1, 1)

regions = st.sampled_from(sorted(region_codes()))
provinces = st.sampled_from(sorted(province_codes()))
nationalities = st.sampled_from(sorted(NUMERIC_CODES))
birth_dates = st.dates(min_value=EARLIEST, max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")
check_characters = st.sampled_from("0123456789X")


def ymd(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


@settings(deadline=None, database=None)
@given(region=regions, born=birth_dates, sequence=sequences, other=check_characters)
def test_any_resident_id_with_known_region_real_date_and_right_check_is_accepted_and_a_flipped_check_refused(
    region: str, born: datetime.date, sequence: str, other: str
) -> None:
    body = region + ymd(born) + sequence
    right = mod_11_2.calc_check_digit(body)
    doc = normalise_document("cn_resident_id", (body + right).lower(), None, today=TODAY)
    assert doc.number == body + right
    assert doc.birth_date == born

    assume(other != right)
    try:
        normalise_document("cn_resident_id", body + other, None, today=TODAY)
    except DocumentError as exc:
        assert list(exc.errors) == ["id_document.number"]
    else:
        raise AssertionError("a wrong check character was accepted")


@settings(deadline=None, database=None)
@given(region=regions, born=birth_dates, sequence=sequences)
def test_we_accept_every_resident_id_that_stdnum_accepts(
    region: str, born: datetime.date, sequence: str
) -> None:
    body = region + ymd(born) + sequence
    number = body + mod_11_2.calc_check_digit(body)
    if ric.is_valid(number):
        assert normalise_document("cn_resident_id", number, None, today=TODAY).number == number


@settings(deadline=None, database=None)
@given(
    province=provinces,
    nationality=nationalities,
    born=birth_dates,
    sequence=sequences,
    other=check_characters,
)
def test_any_foreign_permanent_resident_id_built_to_the_format_is_accepted_and_a_flipped_check_refused(
    province: str, nationality: str, born: datetime.date, sequence: str, other: str
) -> None:
    body = "9" + province + nationality + ymd(born) + sequence
    right = mod_11_2.calc_check_digit(body)
    doc = normalise_document("cn_foreign_permanent_resident_id", body + right, None, today=TODAY)
    assert doc.birth_date == born

    assume(other != right)
    try:
        normalise_document("cn_foreign_permanent_resident_id", body + other, None, today=TODAY)
    except DocumentError:
        pass
    else:
        raise AssertionError("a wrong check character was accepted")


@settings(deadline=None, database=None)
@given(
    born=st.dates(min_value=TODAY + datetime.timedelta(days=1), max_value=datetime.date(2999, 12, 31)),
    region=regions,
)
def test_any_future_birth_date_is_refused(born: datetime.date, region: str) -> None:
    body = region + ymd(born) + "001"
    try:
        normalise_document("cn_resident_id", body + mod_11_2.calc_check_digit(body), None, today=TODAY)
    except DocumentError:
        pass
    else:
        raise AssertionError("a future birth date was accepted")


name_characters = st.sampled_from(
    list("abcXYZéñøßłĳ张三李阿卜杜勒艾尼サトウハナコ김민준ابدراخمانᠪᠠᠲᠤབསྟནའཛིནБатбаяр")
    + [" ", "·", "・", "-", "'", "\u3000", "ｱ"]
)


@settings(deadline=None, database=None)
@given(st.text(alphabet=name_characters, min_size=1, max_size=80))
def test_name_normalisation_is_idempotent(raw: str) -> None:
    try:
        once = normalise_name(raw)
    except DocumentError:
        return
    assert normalise_name(once) == once
    assert once == once.strip() and "  " not in once
    assert 1 <= len(once) <= 64


@settings(deadline=None, database=None)
@given(st.text(max_size=40))
def test_mask_preserves_length_and_reveals_at_most_five_characters(value: str) -> None:
    masked = mask(value)
    assert len(masked) == len(value)
    revealed = sum(1 for a, b in zip(value, masked, strict=True) if b != "*" and a == b)
    assert revealed <= 5
    if len(value) >= 8:
        assert masked[:3] == value[:3] and masked[-2:] == value[-2:]
