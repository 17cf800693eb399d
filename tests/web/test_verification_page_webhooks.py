"""The platform hears how a session ended without polling: `verification_session.completed` and
`.failed`, stored with the session's new status and delivered signed (verified by the receiver
with the `standardwebhooks` library)."""

from __future__ import annotations

import pytest

from identity.settings import Settings
from tests.conftest import make_settings
from tests.support.people import resident_id
from tests.support.verification import create_session, page_policy, person_form, submit
from tests.support.webhooks import WEBHOOK_SCOPES, add_endpoint, deliver_once, receiving

EVENTS = ["verification_session.completed", "verification_session.failed"]


@pytest.fixture
def settings(tmp_path, database_url, root_key_file) -> Settings:
    return make_settings(tmp_path / "instance", database_url, root_key_file, webhook_allow_private=True)


def test_completed_and_failed_sessions_are_announced_with_no_personal_data(client, runner, platforms):
    platform = platforms.create("forum", **page_policy())
    headers = platforms.headers(platform, (*WEBHOOK_SCOPES, "registrations:write"))
    number, name = resident_id(sequence=31), "赵六"
    with receiving() as receiver:
        add_endpoint(client, headers, receiver, "/hooks", EVENTS)
        done = create_session(client, headers)
        assert submit(client, done, person_form(number, name=name)).status_code == 303
        failed = create_session(client, headers, locale="en")
        wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
        for _ in range(5):
            submit(client, failed, person_form(wrong, name=name))
        duplicate = create_session(client, headers)
        submit(client, duplicate, person_form(number, name=name))
        assert deliver_once(runner)["delivered"] == 3
        payloads = {p["data"]["session"]: p for p in receiver.payloads("/hooks")}

    read = client.get(f"/v1/verification-sessions/{done['id']}", headers=headers).get_json()
    pseudonym = read["account"]["pseudonym"]
    assert payloads[done["id"]]["type"] == "verification_session.completed"
    assert payloads[done["id"]]["data"] | {"ended_at": None} == {
        "session": done["id"], "status": "completed", "pseudonym": pseudonym, "external_ref": "forum-user-42",
        "state": "opaque-123", "code": None, "ended_at": None}
    assert payloads[failed["id"]]["type"] == "verification_session.failed"
    assert payloads[failed["id"]]["data"]["code"] == "too_many_attempts"
    assert payloads[failed["id"]]["data"]["pseudonym"] is None
    assert payloads[duplicate["id"]]["data"]["code"] == "duplicate_identity"
    assert payloads[duplicate["id"]]["data"]["pseudonym"] == pseudonym
    for payload in payloads.values():
        assert name not in str(payload) and number not in str(payload) and wrong[:-1] not in str(payload)
