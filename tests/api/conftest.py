"""Fixtures shared by the token API tests."""

from __future__ import annotations

import pytest

from tests.support.tokens import Clock, register


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The token routes' clock, frozen and movable (sanction tests define their own)."""
    clock = Clock()
    monkeypatch.setattr("identity.api.tokens.utc_now", clock)
    return clock


@pytest.fixture
def pseudonym(client, auth) -> str:
    return register(client, auth)
