"""No error message, str(exc) or repr(exc) ever contains the submitted value."""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.iso7064 import mod_11_2

from identity.documents import DocumentError, normalise_document, normalise_name, normalise_phone
from identity.documents.messages import ALL_MESSAGES

TODAY = datetime.date(2026, 5, 1)


def with_check(body: str) -> str:
    return body + mod_11_2.calc_check_digit(body)


def wrong_check(body: str) -> str:
    right = mod_11_2.calc_check_digit(body)
    return body + ("1" if right != "1" else "2")


def document(doc_type: str, number: object, country: object = None) -> Callable[[], object]:
    return lambda: normalise_document(doc_type, number, country, today=TODAY)  # type: ignore[arg-type]


def name(raw: object) -> Callable[[], object]:
    return lambda: normalise_name(raw)  # type: ignore[arg-type]


def phone(raw: object) -> Callable[[], object]:
    return lambda: normalise_phone(raw)  # type: ignore[arg-type]


# (submitted values that must not be echoed, the call that refuses them)
CASES: list[tuple[tuple[object, ...], Callable[[], object]]] = [
    # id_document.type
    (("driving_licence",), document("driving_licence", "11010519491231002X")),
    (("",), document("", "11010519491231002X")),
    # cn_resident_id
    (("110105491231002",), document("cn_resident_id", "110105491231002")),
    (("1101051949123100",), document("cn_resident_id", "1101051949123100")),
    (("110105 19491231 0021",), document("cn_resident_id", "110105 19491231 0021")),
    ((with_check("11019919800101001"),), document("cn_resident_id", with_check("11019919800101001"))),
    ((with_check("93184019850101001"),), document("cn_resident_id", with_check("93184019850101001"))),
    ((with_check("11010519800230001"),), document("cn_resident_id", with_check("11010519800230001"))),
    ((with_check("11010520260502001"),), document("cn_resident_id", with_check("11010520260502001"))),
    ((with_check("11010518991231001"),), document("cn_resident_id", with_check("11010518991231001"))),
    ((wrong_check("11010519491231002"),), document("cn_resident_id", wrong_check("11010519491231002"))),
    ((12345678901234567,), document("cn_resident_id", 12345678901234567)),
    (("1" * 2000,), document("cn_resident_id", "1" * 2000)),
    # cn_foreign_permanent_resident_id
    (("USA310185010101",), document("cn_foreign_permanent_resident_id", "USA310185010101")),
    (("93184019850101",), document("cn_foreign_permanent_resident_id", "93184019850101")),
    (("11010519491231002X",), document("cn_foreign_permanent_resident_id", "11010519491231002X")),
    (
        (with_check("99984019850101001"),),
        document("cn_foreign_permanent_resident_id", with_check("99984019850101001")),
    ),
    (
        (with_check("93199919850101001"),),
        document("cn_foreign_permanent_resident_id", with_check("93199919850101001")),
    ),
    (
        (wrong_check("93184020990101001"),),
        document("cn_foreign_permanent_resident_id", wrong_check("93184020990101001")),
    ),
    # permits
    (("H1234567",), document("hk_macau_travel_permit", "H1234567")),
    (("1234567",), document("tw_travel_permit", "1234567")),
    (("   ",), document("tw_travel_permit", "   ")),
    # passport
    (("E12-345", "ZZZ"), document("passport", "E12-345", "ZZZ")),
    (("E1234567",), document("passport", "E1234567", None)),
    (("E1234567", "China"), document("passport", "E1234567", "China")),
    (("E1234567", 156), document("passport", "E1234567", 156)),
    # real_name
    (("张3",), name("张3")),
    (("张三😀",), name("张三😀")),
    (("A&B",), name("A&B")),
    (("Anna\tLee",), name("Anna\tLee")),
    (("-·",), name("-·")),
    (("·张三",), name("·张三")),
    (("\u0301Anna",), name("\u0301Anna")),
    (("\u200dAnna",), name("\u200dAnna")),
    (("王" * 65,), name("王" * 65)),
    (("  ",), name("  ")),
    ((42,), name(42)),
    # phone
    (("13800138000",), phone("13800138000")),
    (("+1 800 FLOWERS",), phone("+1 800 FLOWERS")),
    (("+()",), phone("+()")),
    (("+86 123",), phone("+86 123")),
    ((8613800138000,), phone(8613800138000)),
    (("",), phone("")),
]


def forms_of(value: object) -> set[str]:
    """The value as submitted and as it would look after normalisation."""
    text = str(value)
    nfkc = unicodedata.normalize("NFKC", text)
    forms = {text, text.strip(), nfkc.strip(), "".join(nfkc.split()), "".join(nfkc.split()).upper()}
    # Shorter than two characters cannot be meaningfully searched for.
    return {form for form in forms if len(form) >= 2}


def raised(call: Callable[[], object]) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        call()
    return info.value


@pytest.mark.parametrize(("values", "call"), CASES)
def test_error_messages_and_str_never_contain_the_submitted_value(
    values: tuple[object, ...], call: Callable[[], object]
) -> None:
    exc = raised(call)
    texts = [message for messages in exc.errors.values() for message in messages]
    texts += [str(exc), repr(exc), *map(str, exc.args)]
    for value in values:
        for form in forms_of(value):
            for text in texts:
                assert form not in text


@pytest.mark.parametrize(("values", "call"), CASES)
def test_errors_are_not_chained_to_exceptions_that_might_carry_the_value(
    values: tuple[object, ...], call: Callable[[], object]
) -> None:
    exc = raised(call)
    assert exc.__cause__ is None
    assert exc.__context__ is None


def test_every_raised_message_is_a_constant_from_the_catalogue_and_all_are_exercised() -> None:
    seen: set[str] = set()
    for _values, call in CASES:
        exc = raised(call)
        for messages in exc.errors.values():
            assert set(messages) <= ALL_MESSAGES
            seen.update(messages)
    assert seen == ALL_MESSAGES


NUMBER_ALPHABET = "0123456789XHM "


@settings(deadline=None, database=None)
@given(
    doc_type=st.sampled_from(
        [
            "cn_resident_id",
            "cn_foreign_permanent_resident_id",
            "hk_macau_travel_permit",
            "tw_travel_permit",
            "passport",
        ]
    ),
    number=st.text(alphabet=NUMBER_ALPHABET, min_size=5, max_size=25),
)
def test_no_refused_number_is_ever_echoed(doc_type: str, number: str) -> None:
    try:
        normalise_document(doc_type, number, "CHN", today=TODAY)
    except DocumentError as exc:
        compact = "".join(number.split())
        for form in {number, number.strip(), compact}:
            if len(form) >= 5:
                assert form not in str(exc)
                assert all(form not in message for messages in exc.errors.values() for message in messages)
