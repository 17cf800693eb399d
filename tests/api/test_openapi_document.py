"""The served OpenAPI document is complete enough to generate a client from, and says what the
service really sends: problem+json errors with their codes, the headers, the scopes."""

from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from identity.errors import DomainError
from identity.services.platforms import SCOPES

PROBLEM = "application/problem+json"
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").get_json()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def by_id(spec: dict) -> dict[str, dict]:
    return {operation["operationId"]: operation for _, operation in operations(spec)}


def resolved(spec: dict, response: dict) -> dict:
    ref = response.get("$ref")
    return spec["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def codes(operation: dict, status: int) -> set[str]:
    schema = operation["responses"][str(status)]["content"][PROBLEM]["schema"]
    return set(schema["allOf"][1]["properties"]["code"]["enum"])


def all_domain_errors(base: type = DomainError):
    for sub in base.__subclasses__():
        yield sub
        yield from all_domain_errors(sub)


def test_the_document_is_valid_openapi(spec):
    validate(spec)  # raises on any violation of the OpenAPI 3.0 schema and its rules


def test_every_operation_has_a_unique_readable_operation_id(spec):
    names = [operation.get("operationId") for _, operation in operations(spec)]
    assert all(name and re.fullmatch(r"[a-z][A-Za-z0-9]*", name) for name in names), names
    assert len(names) == len(set(names))
    assert {"createRegistration", "getAccount", "listAccounts", "closeAccount", "getPersonalData", "issueToken",
            "introspectToken", "revokeToken", "fileSanction", "getSanction", "listSanctions", "liftSanction",
            "getJwks"} <= set(names)


def test_every_documented_error_is_problem_json(spec):
    errors = []
    for name, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                errors.append((f"{name} {status}", resolved(spec, response)))
    assert len(errors) > 60
    for name, response in errors:
        assert list(response["content"]) == [PROBLEM], name


def test_each_error_status_lists_the_codes_the_operation_can_answer(spec):
    ops = by_id(spec)
    register = ops["createRegistration"]
    assert codes(register, 409) == {"duplicate_identity", "conflict"}
    assert codes(register, 403) == {"registration_refused", "forbidden"}
    assert codes(register, 422) == {"validation_failed", "guardian_consent_required", "age_requirement_not_met",
                                    "identity_not_verified", "idempotency_key_reused"}
    assert codes(register, 503) == {"verification_unavailable", "service_unavailable"}
    assert codes(ops["issueToken"], 403) == {"account_restricted", "forbidden"}
    assert codes(ops["getPersonalData"], 403) == {"cross_border_assessment_required", "forbidden"}
    assert codes(ops["getPersonalData"], 410) == {"identity_erased"}
    assert codes(ops["liftSanction"], 409) == {"conflict"}
    assert "422" not in ops["getAccount"]["responses"]  # no body, no query: nothing to validate


def test_cross_cutting_errors_are_documented_with_their_headers_wherever_they_apply(spec):
    for name, operation in operations(spec):
        responses = operation["responses"]
        if operation.get("x-required-scope"):
            assert codes(operation, 401) == {"unauthorized"}, name
            assert "WWW-Authenticate" in responses["401"]["headers"], name
            assert "forbidden" in codes(operation, 403), name
            assert codes(operation, 429) == {"rate_limited"}, name
        if "requestBody" in operation:
            assert codes(operation, 413) == {"payload_too_large"}, name
            assert codes(operation, 415) == {"unsupported_media_type"}, name
            assert "validation_failed" in codes(operation, 422), name
        for status in ("429", "503"):
            if status in responses:
                assert "Retry-After" in responses[status]["headers"], f"{name} {status}"


def test_every_code_documented_is_one_the_service_has_and_every_domain_code_is_documented(spec):
    known = {error.code for error in all_domain_errors()} | {"payload_too_large", "unsupported_media_type",
                                                             "service_unavailable"}
    documented = set()
    for _, operation in operations(spec):
        for status, response in operation["responses"].items():
            schema = resolved(spec, response)["content"][PROBLEM]["schema"] if status != "default" and int(
                status) >= 400 else None
            if schema and "allOf" in schema and "code" in schema["allOf"][1].get("properties", {}):
                documented |= set(schema["allOf"][1]["properties"]["code"]["enum"])
    assert documented <= known
    # An error class a route can raise but no route declares (`@raises`) would be missing here.
    assert known - documented == set()


def test_idempotency_key_is_documented_on_creating_posts_and_not_on_token_routes(spec):
    def takes_key(operation: dict) -> bool:
        return any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))

    ops = by_id(spec)
    assert all(takes_key(ops[name]) for name in ("createRegistration", "fileSanction", "liftSanction"))
    assert not any(takes_key(ops[name]) for name in ("issueToken", "introspectToken", "revokeToken", "getAccount"))


def test_each_operation_names_its_scope(spec):
    ops = by_id(spec)
    assert ops["createRegistration"]["x-required-scope"] == "registrations:write"
    assert ops["introspectToken"]["x-required-scope"] == "tokens:introspect"
    assert ops["revokeToken"]["x-required-scope"] == "tokens:issue"
    for name, operation in operations(spec):
        scope = operation.get("x-required-scope")
        if scope is None:  # no key at all, or any key whatever its scopes (the sandbox's list)
            assert operation["security"] == [] or "any scope" in operation["description"], name
            continue
        assert scope in SCOPES, name
        assert operation["security"] == [{"bearerAuth": []}], name
        assert f"`{scope}`" in operation["description"], name
    assert ops["getJwks"]["security"] == [] and ops["checkReadiness"]["security"] == []
    assert ops["listSandboxIdentities"]["security"] == [{"bearerAuth": []}]


def test_every_request_body_has_an_example_that_its_schema_accepts(spec):
    bodies = 0
    for name, operation in operations(spec):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            bodies += 1
            assert "example" in content, f"{name} {media}"
            schema = {"allOf": [content["schema"]], "components": spec["components"]}
            errors = list(OAS30Validator(schema).iter_errors(content["example"]))
            assert errors == [], f"{name} {media}: {errors}"
    assert bodies >= 7


def test_the_registration_example_registers(client, auth, spec):
    example = by_id(spec)["createRegistration"]["requestBody"]["content"]["application/json"]["example"]

    response = client.post("/v1/registrations", json=example, headers=auth)

    assert response.status_code == 201, response.get_json()


def test_every_response_body_schema_lists_its_required_fields(spec):
    schemas = spec["components"]["schemas"]
    seen: set[str] = set()

    def walk(schema: dict, where: str) -> None:
        ref = schema.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                walk(schemas[name], name)
            return
        for part in schema.get("allOf", []):
            walk(part, where)
        if schema.get("properties"):
            assert schema.get("required"), f"{where} has no required list"
            for key, prop in schema["properties"].items():
                walk(prop, f"{where}.{key}")
        if "items" in schema:
            walk(schema["items"], where)

    for name, operation in operations(spec):
        for status, response in operation["responses"].items():
            for content in resolved(spec, response).get("content", {}).values():
                walk(content["schema"], f"{name} {status}")
    assert {"Account", "IssuedToken", "Sanction", "Problem", "Verification", "Jwk"} <= seen
    assert set(schemas["Account"]["required"]) == set(schemas["Account"]["properties"])
    assert schemas["Introspection"]["required"] == ["active"]  # the rest only for an active token


def test_errors_sent_carry_a_code_the_document_lists_for_that_status(client, auth, spec):
    ops = by_id(spec)
    cases = [
        ("getAccount", client.get("/v1/accounts/psn_00000000000000000000000000")),
        ("getAccount", client.get("/v1/accounts/psn_00000000000000000000000000", headers=auth)),
        ("createRegistration", client.post("/v1/registrations", json={"real_name": 1}, headers=auth)),
        ("createRegistration", client.post("/v1/registrations", data="x", headers=auth)),
        ("issueToken", client.post("/v1/tokens", json={"pseudonym": "psn_x"}, headers=auth)),
    ]
    for name, response in cases:
        assert response.mimetype == PROBLEM
        assert response.get_json()["code"] in codes(ops[name], response.status_code), (name, response.status_code)
    assert client.get("/v1/accounts/psn_x").headers["WWW-Authenticate"].startswith("Bearer")


def test_successful_answers_stay_json(spec):
    ok = spec["paths"]["/v1/registrations"]["post"]["responses"]["201"]
    assert list(ok["content"]) == ["application/json"]

