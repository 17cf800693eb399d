"""sanctions.permissions_after: what a token's scope still allows under the sanctions in force."""

from __future__ import annotations

import pytest

from identity.models import Sanction
from identity.services.sanctions import TOKEN_PERMISSIONS, permissions_after


def sanction(kind: str) -> Sanction:
    return Sanction(kind=kind)  # not stored: only its kind matters here


def test_no_sanction_leaves_every_permission_in_contract_order():
    assert permissions_after([]) == list(TOKEN_PERMISSIONS) == ["post", "group:create", "group:manage"]


@pytest.mark.parametrize("kind, left", [
    ("posting_ban", ["group:create", "group:manage"]),
    ("blacklist", ["group:create", "group:manage"]),
    ("group_management_suspension", ["post"]),
])
def test_each_kind_removes_what_it_bars(kind, left):
    assert permissions_after([sanction(kind)]) == left


def test_sanctions_together_remove_the_union_and_repeats_change_nothing():
    both = [sanction("posting_ban"), sanction("group_management_suspension"), sanction("posting_ban")]
    assert permissions_after(both) == []
    assert permissions_after([sanction("blacklist"), sanction("posting_ban")]) == ["group:create", "group:manage"]
