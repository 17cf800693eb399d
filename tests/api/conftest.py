"""Fixtures shared by the token API tests."""

from __future__ import annotations

import pytest

from tests.support.people import register


@pytest.fixture
def pseudonym(client, auth) -> str:
    return register(client, auth)
