"""Fixtures for the verifier tests: a real local authority, a stand-in document, a fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pytest

from identity.verifiers import HttpVerifier
from tests.support.authority import KNOWN_PERSON, Authority

from .stand_ins import FIXED_NOW, stand_in_document

if TYPE_CHECKING:
    from identity.documents import Document


@pytest.fixture
def known_name() -> str:
    return KNOWN_PERSON[0]


@pytest.fixture
def known_document() -> Document:
    return stand_in_document(KNOWN_PERSON[1], birth_date=date(1949, 12, 31))


@pytest.fixture
def unknown_document() -> Document:
    return stand_in_document("110105194912310037", birth_date=date(1949, 12, 31))


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return lambda: FIXED_NOW


@pytest.fixture
def authority() -> Iterator[Authority]:
    with Authority(known={KNOWN_PERSON}) as running:
        yield running


@pytest.fixture
def make_verifier(clock: Callable[[], datetime]) -> Iterator[Callable[..., HttpVerifier]]:
    """HttpVerifier factory with test-sized timeouts and backoff; closes what it made."""
    made: list[HttpVerifier] = []

    def make(url: str, **options: Any) -> HttpVerifier:
        settings: dict[str, Any] = {
            "connect_timeout": 1.0,
            "read_timeout": 2.0,
            "retries": 2,
            "backoff": 0.01,
            "clock": clock,
        }
        settings.update(options)
        verifier = HttpVerifier(url, **settings)
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        verifier.close()
