"""Helpers for sanction tests: file through the API, read the person row."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from identity.models import Account, Person


def file(client: FlaskClient, headers: dict[str, str], pseudonym: str, kind: str = "posting_ban",
         **extra: Any) -> dict[str, Any]:
    body = {"pseudonym": pseudonym, "kind": kind, "reason_code": "illegal_content", "evidence_ref": "report-8812",
            **extra}
    response = client.post("/v1/sanctions", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def person_of(app: Flask, pseudonym: str) -> Person:
    """The person row behind a pseudonym, detached, as stored."""
    from identity.extensions import db

    with app.app_context():
        person = db.session.scalar(select(Person).join(Account, Account.person_id == Person.id)
                                   .where(Account.pseudonym == pseudonym))
        assert person is not None
        db.session.expunge(person)
        return person
