"""An overseas platform receives no personal data until an operator records a security
assessment, and again none once it lapses."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.support.lawful import admin, audit_events, ok
from tests.support.people import register


def test_an_overseas_platform_gets_personal_data_only_under_a_valid_assessment(app, client, runner, platforms,
                                                                              clock):
    overseas = platforms.create("abroad", jurisdiction="overseas")
    headers = platforms.headers(overseas)
    pseudonym = register(client, headers)
    url = f"/v1/accounts/{pseudonym}/personal-data"

    refused = client.get(url, headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "cross_border_assessment_required"
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "张三" not in refused.get_data(as_text=True)
    assert not [e for e in audit_events(app) if e.action == "personal_data.read"]
    assert client.get(f"/v1/accounts/{pseudonym}", headers=headers).status_code == 200  # only personal data

    until = (clock.now() + timedelta(days=10)).date().isoformat()
    recorded = ok(admin(runner, "platforms", "assess", overseas, "--reference", "CAC-SA-2026-118",
                        "--valid-until", until, "--json", operator="alice"))
    assert recorded["valid_until"] == f"{until}T00:00:00Z"
    allowed = client.get(url, headers=headers)
    assert allowed.status_code == 200 and allowed.get_json()["real_name"] == "张三"

    clock.advance(days=10)  # it lapses on its date
    assert client.get(url, headers=headers).get_json()["code"] == "cross_border_assessment_required"
    assessed = [e for e in audit_events(app) if e.action == "platform.assessed"]
    assert [(e.actor, e.subject, json.loads(e.details)) for e in assessed] == [
        ("operator:alice", overseas, {"valid_until": until, "jurisdiction": "overseas"})]


def test_a_domestic_platform_needs_no_assessment(client, platforms):
    headers = platforms.headers(platforms.create("home"))
    pseudonym = register(client, headers)
    assert client.get(f"/v1/accounts/{pseudonym}/personal-data", headers=headers).status_code == 200


def test_an_assessment_must_lapse_in_the_future_and_name_a_platform(runner, platforms, clock):
    overseas = platforms.create("abroad", jurisdiction="overseas")
    today = clock.now().date().isoformat()
    past = admin(runner, "platforms", "assess", overseas, "--reference", "r", "--valid-until", today)
    assert past.exit_code == 1 and "future" in past.output
    nowhere = admin(runner, "platforms", "assess", "plt_missing", "--reference", "r", "--valid-until", "2999-01-01")
    assert nowhere.exit_code == 1 and "no platform" in nowhere.output
    assert admin(runner, "platforms", "assess", overseas, "--reference", "r", "--valid-until", "soon").exit_code == 2


def test_the_jurisdiction_policy_key_takes_only_its_two_values(runner, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"jurisdiction": "offshore"}))
    result = admin(runner, "platforms", "create", "x", "--policy", str(policy))
    assert result.exit_code == 1 and "jurisdiction" in result.output
    policy.write_text(json.dumps({"jurisdiction": "overseas"}))
    assert ok(admin(runner, "platforms", "create", "y", "--policy", str(policy), "--json"))["policy"][
        "jurisdiction"] == "overseas"
