"""The group policy keys and scopes through `identity-admin`: defaults, validation, issuing keys."""

from __future__ import annotations

import json

import pytest

from tests.support.groups import found
from tests.support.people import register

GROUP_DEFAULTS = {"max_groups_per_person": 10, "min_credit_to_found": 60, "credit_penalty": 20,
                  "credit_penalty_days": 365, "suspension_days": 180, "blacklist_below": 40}


def admin(runner, *args):
    return runner.invoke(args=["admin", *args])


def create(runner, tmp_path, policy):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return admin(runner, "platforms", "create", "Group Forum", "--policy", str(path), "--json")


def test_a_platform_gets_the_group_defaults(runner, tmp_path):
    result = create(runner, tmp_path, {})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["policy"].items() >= GROUP_DEFAULTS.items()


def test_group_keys_set_in_the_policy_are_kept(runner, tmp_path):
    chosen = {"max_groups_per_person": 1, "min_credit_to_found": 0, "credit_penalty": 100,
              "credit_penalty_days": 1, "suspension_days": 3650, "blacklist_below": 100}
    result = create(runner, tmp_path, chosen)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["policy"].items() >= chosen.items()


@pytest.mark.parametrize("policy", [
    {"max_groups_per_person": 0},
    {"max_groups_per_person": "10"},
    {"max_groups_per_person": 1.5},
    {"min_credit_to_found": 101},
    {"min_credit_to_found": True},
    {"credit_penalty": -1},
    {"credit_penalty_days": 0},
    {"suspension_days": None},
    {"blacklist_below": 101},
    {"max_groups_per_peson": 3},
])
def test_a_bad_group_policy_is_refused_with_one_line(runner, tmp_path, policy):
    result = create(runner, tmp_path, policy)
    assert result.exit_code == 1
    message = json.loads(result.output)["error"]
    message = message["message"] if isinstance(message, dict) else message
    assert "invalid policy" in message and next(iter(policy)) in message and "\n" not in message
    listed = json.loads(admin(runner, "platforms", "list", "--json").output)
    assert listed["platforms"] == []


def test_api_keys_may_carry_the_group_scopes(runner, client, platform):
    result = admin(runner, "api-keys", "issue", platform, "--scopes", "registrations:write,groups:read,groups:write",
                   "--json")
    assert result.exit_code == 0, result.output
    issued = json.loads(result.output)
    assert issued["scopes"] == ["registrations:write", "groups:read", "groups:write"]
    auth = {"Authorization": f"Bearer {issued['api_key']}"}
    group = found(client, auth, register(client, auth))
    assert client.get(f"/v1/groups/{group['id']}", headers=auth).status_code == 200
