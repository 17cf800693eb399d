"""Fakes for the services' pure parts: an in-memory keyring and a caller, no database, no app."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from identity.crypto.keyring import Keyring
from identity.services.authentication import Principal
from identity.services.platforms import PlatformPolicy


@pytest.fixture
def keyring() -> Keyring:
    """Two versions of every kind, the newer primary, as after one rotation of each."""
    ring = Keyring()
    for kind in ("data", "index", "audit"):
        ring.add(kind, 1, os.urandom(32), primary=False)
        ring.add(kind, 2, os.urandom(32), primary=True)
    return ring


@pytest.fixture
def caller() -> Callable[..., Principal]:
    """A platform's caller under a policy: `caller(phone="required", min_age=18)`."""
    def make(**policy: Any) -> Principal:
        return Principal(key_id="key_unit", platform_id="plt_unit", scopes=frozenset({"registrations:write"}),
                         policy=PlatformPolicy(**policy))
    return make
