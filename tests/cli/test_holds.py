"""`identity-admin holds`: closing an account under a legal hold keeps the identity; releasing
the hold lets the erasure rules run, at once or at the next purge."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from nacl.public import SealedBox

from identity.clock import rfc3339
from tests.support.lawful import admin, audit_events, authority_key, ok, request
from tests.support.people import register
from tests.support.sanctions import file, person_of

NAME = "张三"


def _reveal(runner, platform, pseudonym, key_file):
    disclosure = request(runner, platform, pseudonym)
    ok(admin(runner, "disclosures", "approve", disclosure, "--json", operator="bob"))
    return admin(runner, "disclosures", "reveal", disclosure, "--recipient-key", str(key_file), "--json",
                 operator="bob")


def test_closing_an_account_under_a_hold_keeps_the_identity_until_the_hold_is_released(
        app, client, runner, platform, auth, tmp_path):
    private, key_file = authority_key(tmp_path)
    pseudonym = register(client, auth, name=NAME)
    hold = ok(admin(runner, "holds", "place", "--platform", platform, "--pseudonym", pseudonym,
                    "--case-ref", "HD-2026-0042", "--json", operator="alice"))["id"]
    assert hold.startswith("hld_")
    assert client.delete(f"/v1/accounts/{pseudonym}", headers=auth).status_code == 204
    # The platform's view is what any closed account gets ...
    assert client.get(f"/v1/accounts/{pseudonym}/personal-data", headers=auth).status_code == 410
    # ... but the identity is still there for the case.
    revealed = _reveal(runner, platform, pseudonym, key_file)
    opened = json.loads(SealedBox(private).decrypt(base64.b64decode(ok(revealed)["sealed_box"])))
    assert opened["real_name"] == NAME

    released = ok(admin(runner, "holds", "release", hold, "--json", operator="bob"))
    assert released == {"id": hold, "status": "released", "person_state": "erased"}
    assert person_of(app, pseudonym).name_ct is None
    erased = _reveal(runner, platform, pseudonym, key_file)
    assert erased.exit_code == 1 and "erased" in erased.output
    assert [(e.actor, e.action) for e in audit_events(app) if e.action.startswith("hold.")] == [
        ("operator:alice", "hold.placed"), ("operator:bob", "hold.released")]
    again = admin(runner, "holds", "release", hold, operator="bob")
    assert again.exit_code == 1 and "already released" in again.output
    assert ok(admin(runner, "audit", "verify", "--json"))["ok"] is True


def test_a_released_hold_with_a_sanction_leaves_a_trace_that_the_next_purge_erases(
        app, client, runner, platform, auth, clock):
    pseudonym = register(client, auth, name=NAME)
    file(client, auth, pseudonym, kind="blacklist", expires_at=rfc3339(clock.now() + timedelta(days=30)))
    hold = ok(admin(runner, "holds", "place", "--platform", platform, "--pseudonym", pseudonym,
                    "--case-ref", "c-7", "--json", operator="alice"))["id"]
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    assert person_of(app, pseudonym).state == "active"  # the hold keeps everything, name included

    clock.advance(days=31)  # the blacklist has ended; the hold still keeps the identity
    assert ok(admin(runner, "purge", "--json"))["purged"]["sanction_traces"] == 0
    assert person_of(app, pseudonym).state == "active"

    assert ok(admin(runner, "holds", "release", hold, "--json", operator="alice"))["person_state"] == "erased"
    assert person_of(app, pseudonym).dek_wrapped is None


def test_a_hold_released_while_a_sanction_lasts_keeps_only_the_trace_until_the_purge(
        app, client, runner, platform, auth, clock):
    pseudonym = register(client, auth, name=NAME)
    file(client, auth, pseudonym, kind="blacklist", expires_at=rfc3339(clock.now() + timedelta(days=30)))
    hold = ok(admin(runner, "holds", "place", "--platform", platform, "--pseudonym", pseudonym,
                    "--case-ref", "c-7", "--json", operator="alice"))["id"]
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    assert ok(admin(runner, "holds", "release", hold, "--json", operator="alice"))["person_state"] == \
        "sanction_trace"
    trace = person_of(app, pseudonym)
    assert trace.name_ct is None and trace.doc_index is not None
    clock.advance(days=31)
    assert ok(admin(runner, "purge", "--json"))["purged"]["sanction_traces"] == 1
    assert person_of(app, pseudonym).state == "erased"


def test_a_hold_on_an_erased_identity_is_refused(client, runner, platform, auth):
    pseudonym = register(client, auth)
    client.delete(f"/v1/accounts/{pseudonym}", headers=auth)
    result = admin(runner, "holds", "place", "--platform", platform, "--pseudonym", pseudonym, "--case-ref", "c",
                   operator="alice")
    assert result.exit_code == 1 and "erased" in result.output
    unknown = admin(runner, "holds", "release", "hld_nothing", operator="alice")
    assert unknown.exit_code == 1 and "no legal hold" in unknown.output
