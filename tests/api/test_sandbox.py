"""Sandbox platforms: onboarded with the CLI, used through HTTP like any platform, with the
published test identities only; their tokens say `sandbox`."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from realname_identity_client import IntrospectionClient, TokenVerifier
from sqlalchemy import func, select

from identity import create_app
from identity.extensions import db
from identity.models import Person
from tests.support.authority import Authority
from tests.support.people import registration, resident_id
from tests.support.serving import served

ALL = "registrations:write,accounts:read,accounts:write,tokens:issue,tokens:introspect,sanctions:read,sanctions:write"
# What the contract and README publish; the tests hold the service to it, not to its own list.
ADULT = ("测试·成年", "710000199001010015")
MINOR = ("测试·儿童", "710000202006010027")
BLACKLISTED = ("测试·黑名单", "71000019850315003X")
MISMATCH = ("测试·不符", "710000198007200042")
UNAVAILABLE = ("测试·无应答", "71000019751111005X")
REAL_NUMBER = resident_id("110105", date(1990, 5, 17), 7)


def admin(runner: Any, *args: str) -> dict[str, Any]:
    result = runner.invoke(args=["admin", *args, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def onboard(runner: Any, name: str, *, sandbox: bool, scopes: str = ALL) -> tuple[str, dict[str, str]]:
    created = admin(runner, "platforms", "create", name, *(["--sandbox"] if sandbox else []))
    issued = admin(runner, "api-keys", "issue", created["id"], "--scopes", scopes)
    return created["id"], {"Authorization": f"Bearer {issued['api_key']}"}


@pytest.fixture
def sandbox(runner: Any) -> dict[str, str]:
    return onboard(runner, "forum-sandbox", sandbox=True)[1]


def register(client: Any, headers: dict[str, str], person: tuple[str, str], **extra: Any) -> Any:
    name, number = person
    return client.post("/v1/registrations", json=registration(number, name=name, **extra), headers=headers)


def people(app: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Person)))


def test_the_cli_onboards_a_sandbox_platform_and_lists_it_as_one(runner):
    created = admin(runner, "platforms", "create", "forum-sandbox", "--sandbox")
    normal = admin(runner, "platforms", "create", "forum")
    assert created["sandbox"] is True and normal["sandbox"] is False
    listed = {p["id"]: p["sandbox"] for p in admin(runner, "platforms", "list")["platforms"]}
    assert listed == {created["id"]: True, normal["id"]: False}
    text = runner.invoke(args=["admin", "platforms", "list"]).output
    assert f"{created['id']}  active    forum-sandbox  (sandbox)" in text
    assert "(sandbox)" not in next(line for line in text.splitlines() if normal["id"] in line)
    human = runner.invoke(args=["admin", "platforms", "create", "other-sandbox", "--sandbox"])
    assert human.exit_code == 0 and "created sandbox platform plt_" in human.output


def test_a_sandbox_key_lists_each_identity_with_its_outcome(client, runner):
    _, headers = onboard(runner, "forum-sandbox", sandbox=True, scopes="tokens:introspect")  # any scope will do
    response = client.get("/v1/sandbox/identities", headers=headers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    items = {item["outcome"]: item for item in response.get_json()["items"]}
    assert set(items) == {"registered_adult", "minor_under_14", "blacklisted", "authority_mismatch",
                          "authority_unavailable"}
    published = {outcome: (item["real_name"], item["id_document"]["number"]) for outcome, item in items.items()}
    assert published == {"registered_adult": ADULT, "minor_under_14": MINOR, "blacklisted": BLACKLISTED,
                         "authority_mismatch": MISMATCH, "authority_unavailable": UNAVAILABLE}
    assert {(o, i["status"], i["code"]) for o, i in items.items()} == {
        ("registered_adult", 201, None), ("minor_under_14", 422, "guardian_consent_required"),
        ("blacklisted", 403, "registration_refused"), ("authority_mismatch", 422, "identity_not_verified"),
        ("authority_unavailable", 503, "verification_unavailable")}
    assert all(i["id_document"]["type"] == "cn_resident_id" and i["description"] for i in items.values())


def test_only_a_sandbox_platform_key_lists_the_identities(client, runner):
    _, normal = onboard(runner, "forum", sandbox=False)
    refused = client.get("/v1/sandbox/identities", headers=normal)
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    assert refused.mimetype == "application/problem+json"
    anonymous = client.get("/v1/sandbox/identities")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/v1/sandbox/identities", headers={"Authorization": "Bearer idk_nope_nope"})
    assert wrong.status_code == 401


def test_every_published_identity_produces_its_listed_outcome(client, sandbox):
    listed = client.get("/v1/sandbox/identities", headers=sandbox).get_json()["items"]
    for item in listed:
        person = (item["real_name"], item["id_document"]["number"])
        response = register(client, sandbox, person)
        assert response.status_code == item["status"], (item["outcome"], response.get_json())
        if item["code"]:
            assert response.get_json()["code"] == item["code"]


def test_the_registered_adult_registers_as_an_adult_verified_by_the_sandbox(client, sandbox):
    response = register(client, sandbox, ADULT)
    assert response.status_code == 201, response.get_json()
    account = response.get_json()
    assert account["attributes"] == {"adult": True} and account["status"] == "active"
    assert account["verification"]["level"] == "authority_verified"
    assert account["verification"]["method"] == "sandbox"
    assert response.headers["Location"] == f"/v1/accounts/{account['pseudonym']}"
    again = register(client, sandbox, ADULT)  # one account per person, as anywhere
    assert again.status_code == 409 and again.get_json()["existing_pseudonyms"] == [account["pseudonym"]]
    # A test run that closes its account at the end can register the same identity on the next run.
    assert client.delete(f"/v1/accounts/{account['pseudonym']}", headers=sandbox).status_code == 204
    next_run = register(client, sandbox, ADULT)
    assert next_run.status_code == 201 and next_run.get_json()["pseudonym"] != account["pseudonym"]


def test_the_registered_adult_under_another_name_is_not_verified(client, sandbox):
    response = register(client, sandbox, ("张三", ADULT[1]))
    assert response.status_code == 422 and response.get_json()["code"] == "identity_not_verified"


def test_the_minor_needs_guardian_consent_then_registers_as_a_minor(client, sandbox):
    refused = register(client, sandbox, MINOR)
    assert refused.status_code == 422 and refused.get_json()["code"] == "guardian_consent_required"
    consented = register(client, sandbox, MINOR, consent={"notice_version": "2026-01",
                                                          "accepted_at": "2026-11-28T10:00:00Z",
                                                          "guardian_consent": True})
    assert consented.status_code == 201, consented.get_json()
    assert consented.get_json()["attributes"] == {"adult": False}


def test_the_blacklisted_identity_is_refused_on_every_sandbox_platform(client, runner, app):
    for name in ("forum-sandbox", "chat-sandbox"):
        _, headers = onboard(runner, name, sandbox=True)
        response = register(client, headers, BLACKLISTED)
        assert response.status_code == 403
        assert response.get_json()["code"] == "registration_refused"
        assert "no end date" in response.get_json()["detail"]
    assert people(app) == 0


def test_the_mismatch_identity_is_not_verified_every_time_without_a_rate_limit(client, sandbox, app):
    for _ in range(6):  # more than the 3 mismatches a document may have per platform and day elsewhere
        response = register(client, sandbox, MISMATCH)
        assert response.status_code == 422 and response.get_json()["code"] == "identity_not_verified"
    assert people(app) == 0


def test_the_unavailable_identity_answers_503_with_retry_after_and_stores_nothing(client, sandbox, app):
    response = register(client, sandbox, UNAVAILABLE)
    assert response.status_code == 503
    assert response.get_json()["code"] == "verification_unavailable"
    assert response.headers["Retry-After"] == "30"
    assert people(app) == 0


def test_a_sandbox_refuses_any_other_number_without_echoing_it(client, sandbox, app, caplog):
    caplog.set_level(logging.DEBUG)
    passport = {"type": "passport", "number": "G12345678", "issuing_country": "CHN"}
    for document in ({"type": "cn_resident_id", "number": REAL_NUMBER}, passport):
        body = registration(REAL_NUMBER, id_document=document)
        response = client.post("/v1/registrations", json=body, headers=sandbox)
        assert response.status_code == 422
        problem = response.get_json()
        assert problem["code"] == "validation_failed"
        assert list(problem["errors"]) == ["id_document.number"]
        assert "not a published test identity" in problem["errors"]["id_document.number"][0].lower()
        assert document["number"] not in response.get_data(as_text=True)
        assert document["number"] not in caplog.text
    assert people(app) == 0


def test_a_platform_that_is_not_a_sandbox_refuses_the_published_identities(client, runner, app):
    _, normal = onboard(runner, "forum", sandbox=False)
    for person in (ADULT, MINOR, BLACKLISTED, MISMATCH, UNAVAILABLE):
        response = register(client, normal, person)
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["code"] == "validation_failed"
        assert "sandbox" in response.get_json()["errors"]["id_document.number"][0]
    assert people(app) == 0


def test_sandbox_tokens_say_sandbox_and_introspection_shows_it(client, sandbox):
    pseudonym = register(client, sandbox, ADULT).get_json()["pseudonym"]
    issued = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=sandbox)
    assert issued.status_code == 201
    token = issued.get_json()["token"]
    jwks = client.get("/.well-known/jwks.json").get_json()
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(token, key, algorithms=["EdDSA"], audience=jwt.decode(
        token, options={"verify_signature": False})["aud"])
    assert claims["sandbox"] is True and claims["sub"] == pseudonym
    introspected = client.post("/v1/tokens/introspect", data={"token": token}, headers=sandbox).get_json()
    assert introspected["active"] is True and introspected["sandbox"] is True


def test_normal_platforms_are_unaffected(client, runner):
    _, normal = onboard(runner, "forum", sandbox=False)
    registered = client.post("/v1/registrations", json=registration(REAL_NUMBER), headers=normal)
    assert registered.status_code == 201
    assert registered.get_json()["verification"]["method"] == "offline"
    token = client.post("/v1/tokens", json={"pseudonym": registered.get_json()["pseudonym"]},
                        headers=normal).get_json()["token"]
    assert "sandbox" not in jwt.decode(token, options={"verify_signature": False})
    introspected = client.post("/v1/tokens/introspect", data={"token": token}, headers=normal).get_json()
    assert introspected["active"] is True and "sandbox" not in introspected


def test_a_sandbox_never_asks_the_real_authority(settings):
    with Authority(known={ADULT}) as authority:  # it would even confirm the adult: it must not be asked
        app = create_app(replace(settings, verifier="http", verifier_url=authority.url))
        runner, client = app.test_cli_runner(), app.test_client()
        _, headers = onboard(runner, "forum-sandbox", sandbox=True)
        outcomes = [register(client, headers, person).status_code
                    for person in (ADULT, MINOR, BLACKLISTED, MISMATCH, UNAVAILABLE)]
        assert outcomes == [201, 422, 403, 422, 503]
        assert authority.bodies == []


def test_sandbox_people_stay_in_their_namespace_across_an_index_key_rotation(client, runner, sandbox):
    first = register(client, sandbox, ADULT).get_json()["pseudonym"]
    admin(runner, "keys", "rotate", "index")
    verified = runner.invoke(args=["admin", "keys", "verify"])
    assert verified.exit_code == 0, verified.output
    again = register(client, sandbox, ADULT)  # found again under the new index key: the same sandbox person
    assert again.status_code == 409 and again.get_json()["existing_pseudonyms"] == [first]


def test_the_openapi_document_describes_the_sandbox(client):
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/v1/sandbox/identities"]["get"]
    assert "200" in operation["responses"] and "403" in operation["responses"]
    schemas = spec["components"]["schemas"]
    assert "sandbox" in schemas["Introspection"]["properties"]
    assert set(schemas["SandboxIdentity"]["properties"]) >= {"outcome", "real_name", "id_document", "status", "code"}


def test_the_readme_publishes_the_identities_the_service_lists(client, sandbox):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Sandbox platforms", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ") and "`71" in line]
    documented = {(cells[1].strip(), cells[2].strip().strip("`")) for cells in rows}
    listed = client.get("/v1/sandbox/identities", headers=sandbox).get_json()["items"]
    assert documented == {(i["real_name"], i["id_document"]["number"]) for i in listed}


def test_the_transparency_report_leaves_sandbox_sanctions_out(client, runner, sandbox):
    _, normal = onboard(runner, "forum", sandbox=False)
    real = client.post("/v1/registrations", json=registration(REAL_NUMBER), headers=normal).get_json()["pseudonym"]
    test = register(client, sandbox, ADULT).get_json()["pseudonym"]
    for headers, pseudonym, reason in ((normal, real, "spam"), (sandbox, test, "fraud")):
        filed = client.post("/v1/sanctions", headers=headers, json={
            "pseudonym": pseudonym, "kind": "posting_ban", "reason_code": reason, "evidence_ref": "r-1"})
        assert filed.status_code == 201, filed.get_json()
    today = datetime.now(UTC).date().isoformat()
    report = admin(runner, "transparency", "report", "--from", today, "--to", today)
    assert report["sanctions"] == {"by_kind": {"posting_ban": 1}, "by_reason": {"spam": 1}}


def test_the_posting_service_client_tells_sandbox_tokens_apart(app, client, runner):
    with served(app) as url:
        for sandbox, person in ((True, ADULT), (False, ("张三", REAL_NUMBER))):
            platform, keys = onboard(runner, f"forum-{sandbox}", sandbox=sandbox)
            token = client.post("/v1/tokens", headers=keys, json={
                "pseudonym": register(client, keys, person).get_json()["pseudonym"]}).get_json()["token"]
            verifier = TokenVerifier(f"{url}/.well-known/jwks.json", audience=platform,
                                     issuer=app.extensions["identity"].settings.issuer,
                                     introspection=IntrospectionClient(f"{url}/v1/tokens/introspect",
                                                                       keys["Authorization"].split()[1]))
            assert verifier.verify(token).sandbox is sandbox
            assert verifier.verify(token, online=True).sandbox is sandbox
