"""`identity-admin platforms update ID --policy FILE`, and the policy key `mismatch_limit`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from identity.extensions import db
from identity.models import AuditEvent
from tests.support.people import registration, resident_id


def admin(runner, *args):
    return runner.invoke(args=["admin", *args])


def policy_file(tmp_path, data) -> str:
    path = tmp_path / "policy.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_update_changes_only_the_keys_given_and_is_audited(app, runner, tmp_path):
    created = json.loads(admin(runner, "platforms", "create", "forum", "--policy",
                               policy_file(tmp_path, {"min_age": 18, "phone": "optional"}), "--json").output)
    result = admin(runner, "platforms", "update", created["id"], "--policy",
                   policy_file(tmp_path, {"mismatch_limit": "300/hour"}), "--json")
    assert result.exit_code == 0, result.output
    updated = json.loads(result.output)
    assert updated["id"] == created["id"]
    assert updated["policy"].items() >= {"min_age": 18, "max_accounts_per_person": 1, "phone": "optional",
                                         "jurisdiction": "domestic", "mismatch_limit": "300 per hour"}.items()
    human = admin(runner, "platforms", "update", created["id"], "--policy", policy_file(tmp_path, {"min_age": None}))
    assert human.exit_code == 0 and f"updated the policy of platform {created['id']}" in human.output
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "platform.policy_updated")
                                    .order_by(AuditEvent.seq)).all()
    assert [e.subject for e in events] == [created["id"]] * 2
    assert [json.loads(e.details)["changed"] for e in events] == [["mismatch_limit"], ["min_age"]]


@pytest.mark.parametrize(("data", "reason"), [
    ({"mismatch_limit": "lots"}, "mismatch_limit"),
    ({"mismatch_limit": "0 per hour"}, "mismatch_limit"),
    ({"mismatch_limit": 100}, "mismatch_limit"),
    ({"mismatch_limits": "100 per hour"}, "mismatch_limits"),
    ({"phone": "sometimes"}, "phone"),
    ([1, 2], "JSON object"),
    ("{not json", "not valid JSON"),
])
def test_a_bad_policy_is_refused_in_one_line_and_changes_nothing(runner, platform, tmp_path, data, reason):
    created_policy = json.loads(admin(runner, "platforms", "list", "--json").output)["platforms"][0]["policy"]
    result = admin(runner, "platforms", "update", platform, "--policy", policy_file(tmp_path, data))
    assert result.exit_code == 1 and reason in result.output and len(result.output.strip().splitlines()) == 1
    as_json = admin(runner, "platforms", "update", platform, "--policy", policy_file(tmp_path, data), "--json")
    assert as_json.exit_code == 1 and "error" in json.loads(as_json.output)
    shown = json.loads(admin(runner, "platforms", "list", "--json").output)["platforms"]
    assert shown[0]["policy"] == created_policy


def test_an_unknown_platform_is_refused(runner, tmp_path):
    result = admin(runner, "platforms", "update", "plt_nope", "--policy", policy_file(tmp_path, {"min_age": 18}))
    assert result.exit_code == 1 and "plt_nope" in result.output


def test_a_new_mismatch_limit_applies_to_the_platforms_next_request(runner, client, platforms, tmp_path):
    holder, guesser = platforms.create(), platforms.create()
    holder_headers, guesser_headers = platforms.headers(holder), platforms.headers(guesser)
    number = resident_id(sequence=7)
    assert client.post("/v1/registrations", json=registration(number), headers=holder_headers).status_code == 201
    # warm the guesser's key into the process's cache: the update must reach it all the same
    assert client.post("/v1/registrations", json=registration(resident_id(sequence=8)),
                       headers=guesser_headers).status_code == 201
    result = admin(runner, "platforms", "update", guesser, "--policy",
                   policy_file(tmp_path, {"mismatch_limit": "1 per hour"}))
    assert result.exit_code == 0, result.output
    wrong = client.post("/v1/registrations", json=registration(number, name="李四"), headers=guesser_headers)
    assert wrong.status_code == 422
    after = client.post("/v1/registrations", json=registration(resident_id(sequence=9)), headers=guesser_headers)
    assert after.status_code == 429


def test_the_verification_page_keys_are_set_shown_and_kept(runner, platform, tmp_path):
    page = {"return_urls": ["https://forum.example/after-verify", "http://127.0.0.1:8080/back"],
            "notice_version": "2026-01", "notice_url": "https://forum.example/privacy"}
    result = admin(runner, "platforms", "update", platform, "--policy", policy_file(tmp_path, page), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["policy"].items() >= page.items()
    admin(runner, "platforms", "update", platform, "--policy", policy_file(tmp_path, {"min_age": 16}))
    shown = json.loads(admin(runner, "platforms", "show", platform, "--json").output)["policy"]
    assert shown.items() >= {**page, "min_age": 16}.items()
    human = admin(runner, "platforms", "show", platform).output
    assert 'return_urls: ["https://forum.example/after-verify", "http://127.0.0.1:8080/back"]' in human
    assert 'notice_version: "2026-01"' in human


@pytest.mark.parametrize("data", [
    {"return_urls": ["http://forum.example/after-verify"]},  # plain http off this machine
    {"return_urls": ["https://user:pw@forum.example/after"]},
    {"return_urls": ["https://forum.example/after#frag"]},
    {"return_urls": ["/after-verify"]},
    {"return_urls": ["javascript:alert(1)"]},
    {"return_urls": "https://forum.example/after-verify"},  # a string, not a list
    {"return_urls": ["https://forum.example/x"] * 21},
    {"notice_version": ""},
    {"notice_url": "ftp://forum.example/privacy"},
])
def test_a_bad_page_key_is_refused_in_one_line(runner, platform, tmp_path, data):
    result = admin(runner, "platforms", "update", platform, "--policy", policy_file(tmp_path, data))
    assert result.exit_code == 1 and next(iter(data)) in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
