"""`identity-admin keys revoke signing VERSION --compromised`: a leaked signing key leaves the
JWKS and every token it signed becomes inactive, at once and in every process."""

from __future__ import annotations

import json

import pytest
from realname_identity_client import InvalidToken, TokenVerifier
from sqlalchemy import select

from identity import create_app
from identity.models import AuditEvent
from tests.support.people import register
from tests.support.rotation import keys, keys_json, rows
from tests.support.tokens import FlaskHttp, header_of, introspect, issue


def _kids(client) -> list[str]:  # type: ignore[no-untyped-def]
    return [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]]


def _states(runner) -> dict[tuple[str, int], str]:  # type: ignore[no-untyped-def]
    return {(k["kind"], k["version"]): k["state"] for k in keys_json(runner, "status")[1]["keys"]}


def test_revoking_a_leaked_key_drops_it_and_its_tokens_everywhere_at_once(app, runner, client, auth, platform,
                                                                           settings, clock):
    pseudonym = register(client, auth)
    leaked = issue(client, auth, pseudonym)["token"]
    leaked_kid = header_of(leaked)["kid"]
    verifier = TokenVerifier("http://id.test/.well-known/jwks.json", issuer=settings.issuer, audience=platform,
                             http=FlaskHttp(client), clock=clock.timestamp)
    assert verifier.verify(leaked).sub == pseudonym  # the offline verifier caches the JWKS now
    other_process = create_app(settings).test_client()  # its own caches, same database
    assert introspect(other_process, auth, leaked)["active"] is True  # cached there

    assert keys_json(runner, "rotate", "signing")[0] == 0
    fresh = issue(client, auth, pseudonym)["token"]
    assert _kids(client) == [header_of(fresh)["kid"], leaked_kid]  # in its JWKS window, as after any rotation

    code, body = keys_json(runner, "revoke", "signing", "1", "--compromised", "--yes")
    assert code == 0
    assert body == {"kind": "signing", "version": 1, "kid": leaked_kid, "state": "retired",
                    "revoked_at": body["revoked_at"], "already_retired": False}

    for process in (client, other_process):
        assert leaked_kid not in _kids(process)
        assert introspect(process, auth, leaked) == {"active": False}
        assert introspect(process, auth, fresh)["active"] is True
    assert _states(runner)[("signing", 1)] == "retired"
    clock.advance(300 + verifier.jwks.min_refresh_interval)  # the JWKS's max-age: the verifier refetches
    with pytest.raises(InvalidToken):
        verifier.verify(leaked)
    assert verifier.verify(fresh).sub == pseudonym

    events = rows(app, select(AuditEvent.action, AuditEvent.details).where(AuditEvent.action == "keys.revoked"))
    assert len(events) == 1
    details = events[0][1] if isinstance(events[0][1], dict) else json.loads(events[0][1])
    assert details["version"] == 1 and details["kid"] == leaked_kid and details["compromised"] is True

    again = keys(runner, "revoke", "signing", "1", "--compromised", "--yes")
    assert again.exit_code == 0 and "already retired" in again.output


def test_the_primary_key_is_refused_with_the_command_to_run_first(runner, client, auth):
    before = _kids(client)
    refused = keys(runner, "revoke", "signing", "1", "--compromised", "--yes")
    assert refused.exit_code == 1
    assert refused.output.strip().count("\n") == 0 and "keys rotate signing" in refused.output
    code, body = keys_json(runner, "revoke", "signing", "1", "--compromised", "--yes")
    assert code == 1 and "primary" in json.dumps(body)
    assert _kids(client) == before


@pytest.mark.parametrize("args, reason", [
    (("1",), "needs --compromised"),
    (("1", "--compromised"), "pass --yes"),
    (("9", "--compromised", "--yes"), "no signing key version 9"),
])
def test_a_revocation_without_its_flags_or_of_no_such_key_changes_nothing(runner, client, args, reason):
    assert keys_json(runner, "rotate", "signing")[0] == 0
    before = _kids(client)
    refused = keys(runner, "revoke", "signing", *args)
    assert refused.exit_code == 1 and reason in refused.output
    assert _kids(client) == before and _states(runner)[("signing", 1)] == "active"


def test_on_a_terminal_it_asks_and_a_no_changes_nothing(runner, client, monkeypatch):
    monkeypatch.setattr("identity.cli.confirmation.on_terminal", lambda: True)
    assert keys_json(runner, "rotate", "signing")[0] == 0
    before = _kids(client)
    declined = runner.invoke(args=["admin", "keys", "revoke", "signing", "1", "--compromised"], input="n\n")
    assert declined.exit_code == 1 and "Revoke signing key v1" in declined.output
    assert _kids(client) == before
    agreed = runner.invoke(args=["admin", "keys", "revoke", "signing", "1", "--compromised"], input="y\n")
    assert agreed.exit_code == 0 and len(_kids(client)) == len(before) - 1


def test_only_signing_keys_can_be_revoked(runner):
    refused = keys(runner, "revoke", "data", "1", "--compromised", "--yes")
    assert refused.exit_code == 2 and "'signing'" in refused.output
