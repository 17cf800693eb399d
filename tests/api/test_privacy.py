"""Personal data never reaches a log line, an error body, a metric, the audit log, or the
database in clear. Each test drives a whole flow and searches everything it produced."""

from __future__ import annotations

import logging

from sqlalchemy import inspect, select, text

from identity.extensions import db
from tests.support.people import registration, resident_id

NAME = "欧阳娜娜"
NUMBER = resident_id(region="440305", sequence=77)
PHONE = "+8613912345678"
SECRETS = (NAME, NUMBER, PHONE, NUMBER[:-1], PHONE[1:])


def assert_clean(text_blob: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text_blob, f"{where} leaks personal data"


def test_a_whole_account_life_leaks_nothing(app, client, platforms, caplog):
    caplog.set_level(logging.DEBUG)
    headers = platforms.headers(platforms.create(phone="optional"))
    bodies = []

    def call(method, url, **kwargs):
        response = getattr(client, method)(url, headers=headers, **kwargs)
        bodies.append((url, response.get_data(as_text=True)))
        return response

    account = call("post", "/v1/registrations", json=registration(NUMBER, name=NAME, phone=PHONE)).get_json()
    pseudonym = account["pseudonym"]
    call("post", "/v1/registrations", json=registration(NUMBER, name=NAME, phone=PHONE))            # duplicate
    call("post", "/v1/registrations", json=registration(NUMBER[:-1] + "0", name=NAME, phone=PHONE))  # bad check
    call("post", "/v1/registrations", json=registration(NUMBER, name=NAME + "1", phone=PHONE))       # bad name
    call("post", "/v1/registrations", json=registration(NUMBER, name=NAME, phone=PHONE[:-3]))       # bad phone
    call("get", f"/v1/accounts/{pseudonym}")
    personal = call("get", f"/v1/accounts/{pseudonym}/personal-data").get_data(as_text=True)
    call("delete", f"/v1/accounts/{pseudonym}")
    call("get", f"/v1/accounts/{pseudonym}/personal-data")

    assert NAME in personal  # the access request is the one place the person's own name is shown
    for url, body in bodies:
        if not url.endswith("/personal-data"):
            assert_clean(body, f"response of {url}")
    assert_clean(personal.replace(NAME, ""), "personal-data response")
    assert_clean(caplog.text, "log output")
    assert_clean(client.get("/metrics").get_data(as_text=True), "metrics")
    with app.app_context():
        dump = []
        for table in inspect(db.engine).get_table_names():
            for row in db.session.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value)
                        dump.append(value.decode("utf-8", "replace"))
                    else:
                        dump.append(str(value))
        assert_clean("\n".join(dump), "the database")


def test_the_audit_log_names_ids_not_people(app, client, platforms):
    from identity.models import AuditEvent

    headers = platforms.headers(platforms.create(phone="optional"))
    client.post("/v1/registrations", json=registration(NUMBER, name=NAME, phone=PHONE), headers=headers)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
        assert {e.action for e in events} >= {"account.registered", "platform.created", "api_key.issued"}
        assert_clean(" ".join(f"{e.actor} {e.action} {e.subject} {e.details}" for e in events), "audit log")
