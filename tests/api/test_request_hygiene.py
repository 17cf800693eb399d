"""Request hygiene: strict JSON bodies, bounded metric labels, and no caching of answers that
carry accounts, personal data or tokens."""

from __future__ import annotations

import json

import pytest

from tests.support.people import register, registration
from tests.support.sanctions import file

JSON_ROUTES = ("/v1/registrations", "/v1/tokens", "/v1/tokens/introspect", "/v1/tokens/revoke", "/v1/sanctions")


def nested(depth: int) -> str:
    """A JSON object `depth` levels deep: {"a": {"a": ... {} ...}}."""
    return '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)


def post(client, path: str, body: str, headers: dict[str, str] | None = None):
    return client.post(path, data=body, headers=headers or {}, content_type="application/json")


def assert_refused(response, message: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "validation_failed"
    assert any(message in text for text in problem["errors"]["body"])


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_a_body_nested_1500_deep_is_refused_with_422_before_and_after_authentication(client, auth, path):
    for headers in ({}, auth):
        assert_refused(post(client, path, nested(1500), headers), "deeper than 32")


def test_the_nesting_limit_is_32_levels(client, auth):
    assert_refused(post(client, "/v1/registrations", nested(33), auth), "deeper than 32")
    within = post(client, "/v1/registrations", nested(32), auth)
    assert within.status_code == 422  # not a registration, but parsed: its fields are what is wrong
    assert "a" in within.get_json()["errors"]
    array = "[" * 40 + "]" * 40
    assert_refused(post(client, "/v1/tokens/introspect", json.dumps({"token": json.loads(array)}), auth),
                   "deeper than 32")


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_a_repeated_key_is_refused_and_not_echoed(client, auth, path):
    body = ('{"real_name": "张三", "real_name": "李四", "pseudonym": "psn_x", '
            '"id_document": {"type": "cn_resident_id", "number": "11010519491231002X", '
            '"number": "110105194912310029"}}')
    response = post(client, path, body, auth)
    assert_refused(response, "more than once")
    text = response.get_data(as_text=True)
    for submitted in ("张三", "李四", "11010519491231002X", "110105194912310029"):
        assert submitted not in text


def test_a_repeated_key_in_a_nested_object_is_refused_even_when_both_values_agree(client, auth):
    body = registration()
    text = json.dumps(body)[:-1] + ', "consent": ' + json.dumps(body["consent"]) + "}"
    assert_refused(post(client, "/v1/registrations", text, auth), "more than once")
    assert post(client, "/v1/registrations", json.dumps(body), auth).status_code == 201


def test_an_invented_http_method_does_not_create_a_metric_series(client):
    for method in ("FOO", "BREW", "PROPFIND"):
        assert client.open("/healthz", method=method).status_code == 405
    text = client.get("/metrics").get_data(as_text=True)
    requests = [line for line in text.splitlines() if line.startswith("identity_http_requests_total{")]
    assert any('method="other"' in line and 'status="405"' in line for line in requests)
    for method in ("FOO", "BREW", "PROPFIND"):
        assert method not in text
    methods = {line.split('method="')[1].split('"')[0] for line in requests}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}


def test_metric_labels_name_route_templates_never_paths(client, auth):
    for n in range(3):
        client.get(f"/v1/accounts/psn_nobody{n}", headers=auth)
        client.get(f"/v1/nothing/{n}")
    text = client.get("/metrics").get_data(as_text=True)
    assert "psn_nobody" not in text and "/v1/nothing" not in text
    assert 'route="/v1/accounts/<string:pseudonym>"' in text and 'route="unmatched"' in text


def test_every_answer_to_an_authenticated_request_is_not_stored(client, platforms, platform, auth):
    pseudonym = register(client, auth)
    token = client.post("/v1/tokens", json={"pseudonym": pseudonym}, headers=auth)
    assert token.status_code == 201
    sanction = file(client, auth, pseudonym)
    reader = platforms.headers(platform, scopes=("accounts:read",))
    answers = {
        "register": client.post("/v1/registrations", json=registration(sequence=2), headers=auth),
        "duplicate": client.post("/v1/registrations", json=registration(), headers=auth),
        "account": client.get(f"/v1/accounts/{pseudonym}", headers=auth),
        "lookup": client.get("/v1/accounts?external_ref=x", headers=auth),
        "personal data": client.get(f"/v1/accounts/{pseudonym}/personal-data", headers=auth),
        "sanctions": client.get(f"/v1/sanctions?pseudonym={pseudonym}", headers=auth),
        "sanction": client.get(f"/v1/sanctions/{sanction['id']}", headers=auth),
        "token": token,
        "introspect": client.post("/v1/tokens/introspect", json={"token": token.get_json()["token"]}, headers=auth),
        "revoke": client.post("/v1/tokens/revoke", json={"token": token.get_json()["token"]}, headers=auth),
        "401": client.get(f"/v1/accounts/{pseudonym}", headers={"Authorization": "Bearer nonsense"}),
        "403": client.post("/v1/registrations", json=registration(sequence=3), headers=reader),
        "404": client.get("/v1/accounts/psn_nobody", headers=auth),
        "422": post(client, "/v1/registrations", "{}", auth),
        "415": client.post("/v1/registrations", data="x", headers=auth, content_type="text/plain"),
        "close": client.delete(f"/v1/accounts/{pseudonym}", headers=auth),
    }
    for name, response in answers.items():
        assert response.headers.get("Cache-Control") == "no-store", name


def test_the_jwks_stays_cacheable(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get("/.well-known/jwks.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and "max-age=" in again.headers["Cache-Control"]
