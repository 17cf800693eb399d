"""`identity-admin disclosures`: two operators, an approval that lapses, one reveal, sealed to
the authority's key, and nothing of the identity anywhere in clear."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from nacl.public import SealedBox

from tests.support.lawful import admin, audit_events, audit_text, authority_key, ok, request
from tests.support.people import registration, resident_id

NAME = "欧阳娜娜"
NUMBER = resident_id(region="440305", sequence=77)
PHONE = "+8613912345678"
SECRETS = (NAME, NUMBER, PHONE, NUMBER[:-1], PHONE[1:])


@pytest.fixture
def person(client, platforms):
    platform = platforms.create("forum", phone="optional")
    headers = platforms.headers(platform)
    response = client.post("/v1/registrations", json=registration(NUMBER, name=NAME, phone=PHONE), headers=headers)
    assert response.status_code == 201
    return platform, headers, response.get_json()["pseudonym"]


def test_a_disclosure_takes_two_operators_and_reveals_once_sealed_to_the_authority(
        app, runner, person, tmp_path, caplog, clock):
    caplog.set_level(logging.DEBUG)
    platform, _, pseudonym = person
    private, key_file = authority_key(tmp_path)
    outputs = []

    def step(*args, operator=None):
        result = admin(runner, "disclosures", *args, operator=operator)
        outputs.append(result.output)
        return result

    disclosure = request(runner, platform, pseudonym, operator="alice")
    own = step("approve", disclosure, operator="alice")
    assert own.exit_code == 1 and "second operator" in own.output
    too_early = step("reveal", disclosure, "--recipient-key", str(key_file), "--json", operator="carol")
    assert too_early.exit_code == 1 and "pending" in too_early.output

    approved = ok(step("approve", disclosure, "--json", operator="bob"))
    assert (approved["id"], approved["status"], approved["approved_by"]) == (disclosure, "approved", "bob")

    revealed = ok(step("reveal", disclosure, "--recipient-key", str(key_file), "--json", operator="carol"))
    assert set(revealed) == {"id", "sealed_box"} and revealed["id"] == disclosure
    opened = json.loads(SealedBox(private).decrypt(base64.b64decode(revealed["sealed_box"])))
    assert opened == {"real_name": NAME, "id_document": {"type": "cn_resident_id", "number": NUMBER,
                                                         "issuing_country": None}, "phone": PHONE}

    again = step("reveal", disclosure, "--recipient-key", str(key_file), operator="carol")
    assert again.exit_code == 1 and "revealed" in again.output and "only an approved request" in again.output
    listed = ok(step("list", "--json"))
    assert [(i["id"], i["status"], i["requested_by"], i["approved_by"], i["revealed_by"])
            for i in listed["items"]] == [(disclosure, "revealed", "alice", "bob", "carol")]

    actions = [(e.actor, e.action, e.subject) for e in audit_events(app) if e.action.startswith("disclosure.")]
    assert actions == [("operator:alice", "disclosure.requested", disclosure),
                       ("operator:bob", "disclosure.approved", disclosure),
                       ("operator:carol", "disclosure.revealed", disclosure)]
    assert ok(admin(runner, "audit", "verify", "--json"))["ok"] is True
    for blob, where in (("\n".join(outputs), "command output"), (caplog.text, "log"), (audit_text(app), "audit log")):
        for secret in SECRETS:
            assert secret not in blob, f"{where} shows the identity in clear"


def test_an_approval_lapses_after_72_hours(runner, person, tmp_path, clock):
    platform, _, pseudonym = person
    _, key_file = authority_key(tmp_path)
    disclosure = request(runner, platform, pseudonym)
    ok(admin(runner, "disclosures", "approve", disclosure, "--json", operator="bob"))
    clock.advance(hours=72)
    late = admin(runner, "disclosures", "reveal", disclosure, "--recipient-key", str(key_file), operator="bob")
    assert late.exit_code == 1 and "lapsed" in late.output and "sealed" not in late.output
    assert [i["status"] for i in ok(admin(runner, "disclosures", "list", "--json"))["items"]] == ["lapsed"]
    assert ok(admin(runner, "disclosures", "list", "--status", "lapsed", "--json"))["items"][0]["id"] == disclosure


def test_an_approval_still_stands_a_minute_before_72_hours(runner, person, tmp_path, clock):
    platform, _, pseudonym = person
    _, key_file = authority_key(tmp_path)
    disclosure = request(runner, platform, pseudonym)
    ok(admin(runner, "disclosures", "approve", disclosure, "--json", operator="bob"))
    clock.advance(hours=71, minutes=59)
    assert ok(admin(runner, "disclosures", "reveal", disclosure, "--recipient-key", str(key_file), "--json",
                    operator="bob"))["sealed_box"]


def test_a_denied_request_can_be_neither_approved_nor_revealed(app, runner, person, tmp_path):
    platform, _, pseudonym = person
    _, key_file = authority_key(tmp_path)
    disclosure = request(runner, platform, pseudonym)
    denied = ok(admin(runner, "disclosures", "deny", disclosure, "--reason", "no court order attached", "--json",
                      operator="bob"))
    assert denied["status"] == "denied" and denied["denied_by"] == "bob"
    assert admin(runner, "disclosures", "approve", disclosure, operator="carol").exit_code == 1
    refused = admin(runner, "disclosures", "reveal", disclosure, "--recipient-key", str(key_file), operator="carol")
    assert refused.exit_code == 1 and "denied" in refused.output
    assert "no court order" not in audit_text(app)  # free text stays out of the log


def test_a_disclosure_of_an_erased_identity_says_so_and_reveals_nothing(app, client, runner, person, tmp_path):
    platform, headers, pseudonym = person
    _, key_file = authority_key(tmp_path)
    disclosure = request(runner, platform, pseudonym)
    ok(admin(runner, "disclosures", "approve", disclosure, "--json", operator="bob"))
    assert client.delete(f"/v1/accounts/{pseudonym}", headers=headers).status_code == 204

    result = admin(runner, "disclosures", "reveal", disclosure, "--recipient-key", str(key_file), "--json",
                   operator="bob")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == {
        "code": "identity_erased",
        "message": f"the identity behind disclosure request {disclosure} has been erased; nothing was revealed"}
    assert "sealed_box" not in result.output
    refused = [e for e in audit_events(app) if e.action == "disclosure.reveal_refused"]
    assert [(e.subject, json.loads(e.details)["reason"]) for e in refused] == [(disclosure, "identity_erased")]
    assert ok(admin(runner, "audit", "verify", "--json"))["ok"] is True


def test_the_operator_must_be_named(runner, person, monkeypatch):
    platform, _, pseudonym = person
    monkeypatch.delenv("IDENTITY_OPERATOR", raising=False)
    args = ("disclosures", "request", "--platform", platform, "--pseudonym", pseudonym, "--authority", "PSB",
            "--case-ref", "c-1", "--legal-basis", "CSL art. 28")
    anonymous = admin(runner, *args)
    assert anonymous.exit_code == 1 and "--operator" in anonymous.output
    assert admin(runner, *args, operator="not a login").exit_code == 1
    from_env = runner.invoke(args=["admin", *args, "--json"], env={"IDENTITY_OPERATOR": "dora"})
    disclosure = ok(from_env)["id"]
    assert ok(admin(runner, "disclosures", "list", "--json"))["items"][0]["requested_by"] == "dora"
    # Names compare without case: DORA cannot approve what dora requested.
    assert admin(runner, "disclosures", "approve", disclosure, operator="DORA").exit_code == 1


@pytest.mark.parametrize("content", ["not base64 at all!", base64.b64encode(b"short").decode(), ""])
def test_a_bad_recipient_key_reveals_nothing_and_keeps_the_approval(runner, person, tmp_path, content):
    platform, _, pseudonym = person
    disclosure = request(runner, platform, pseudonym)
    ok(admin(runner, "disclosures", "approve", disclosure, "--json", operator="bob"))
    bad = tmp_path / "bad.pub"
    bad.write_text(content)
    result = admin(runner, "disclosures", "reveal", disclosure, "--recipient-key", str(bad), operator="bob")
    assert result.exit_code == 1 and "X25519" in result.output
    missing = admin(runner, "disclosures", "reveal", disclosure, "--recipient-key", str(tmp_path / "nope"),
                    operator="bob")
    assert missing.exit_code == 1
    assert ok(admin(runner, "disclosures", "list", "--json"))["items"][0]["status"] == "approved"


def test_a_request_names_a_pseudonym_of_that_platform(runner, platforms, person):
    _, _, pseudonym = person
    other = platforms.create("chat")
    result = admin(runner, "disclosures", "request", "--platform", other, "--pseudonym", pseudonym,
                   "--authority", "PSB", "--case-ref", "c-1", "--legal-basis", "CSL", operator="alice")
    assert result.exit_code == 1 and "No such account" in result.output
    blank = admin(runner, "disclosures", "request", "--platform", other, "--pseudonym", pseudonym,
                  "--authority", "  ", "--case-ref", "c-1", "--legal-basis", "CSL", operator="alice")
    assert blank.exit_code == 1 and "--authority" in blank.output
    assert ok(admin(runner, "disclosures", "list", "--json"))["items"] == []

