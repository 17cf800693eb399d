"""No token, pseudonym-to-person link, name or number reaches the log from the token routes."""

from __future__ import annotations

import logging

from sqlalchemy import select

from identity.extensions import db
from identity.models import Account
from tests.support.people import registration
from tests.support.tokens import issue


def test_token_routes_log_no_token_person_name_or_number(client, auth, app, platforms, caplog):
    body = registration(name="李四", sequence=7)
    pseudonym = client.post("/v1/registrations", json=body, headers=auth).get_json()["pseudonym"]
    with app.app_context():
        person_id = str(db.session.scalar(select(Account.person_id).where(Account.pseudonym == pseudonym)))
    other = platforms.headers(platforms.create("chat"))
    caplog.set_level(logging.DEBUG)  # everything, from every logger, SQL statements included
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # DEBUG would echo result rows
    caplog.clear()
    token = issue(client, auth, pseudonym)["token"]
    client.post("/v1/tokens/introspect", data={"token": token}, headers=auth)
    client.post("/v1/tokens/introspect", data={"token": token + "x"}, headers=auth)
    client.post("/v1/tokens/introspect", json={"token": token}, headers=other)
    client.post("/v1/tokens/introspect", json={"token": token, "oops": 1}, headers=auth)
    client.post("/v1/tokens/introspect", data=token, content_type="text/plain", headers=auth)
    client.post("/v1/tokens", json={"pseudonym": pseudonym, "ttl_seconds": "x"}, headers=auth)
    client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=other)
    client.post("/v1/tokens/revoke", data={"token": token}, headers=other)
    client.post("/v1/tokens/revoke", data={"token": token}, headers=auth)
    client.get("/.well-known/jwks.json")
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth)
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert caplog.records  # the routes did log (SQL, werkzeug, ...): there was something to look through
    header, payload, signature = token.split(".")
    for secret in (payload, signature, pseudonym, person_id, person_id.replace("-", ""), "李四",
                   body["id_document"]["number"]):
        assert secret not in logged
