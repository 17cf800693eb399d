"""The served OpenAPI document describes errors with the content type they are sent with."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def resolved(spec: dict, response: dict) -> dict:
    ref = response.get("$ref")
    return spec["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def test_every_documented_error_is_problem_json(client):
    spec = client.get("/openapi.json").get_json()
    errors = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    errors.append((f"{method.upper()} {path} {status}", resolved(spec, response)))
    assert len(errors) > 20
    for name, response in errors:
        assert list(response["content"]) == [PROBLEM], name


def test_an_error_is_sent_with_the_documented_content_type(client):
    spec = client.get("/openapi.json").get_json()
    documented = resolved(spec, spec["paths"]["/v1/accounts"]["get"]["responses"]["default"])

    response = client.get("/v1/accounts?external_ref=x")

    assert response.status_code == 401
    assert response.mimetype in documented["content"]


def test_successful_answers_stay_json(client):
    spec = client.get("/openapi.json").get_json()
    ok = spec["paths"]["/v1/registrations"]["post"]["responses"]["201"]
    assert list(ok["content"]) == ["application/json"]
