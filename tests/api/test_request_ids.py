"""`X-Request-Id`: a sane one from the request is sent back, anything else is replaced by a made one,
and every response carries one, whatever answered it."""

from __future__ import annotations

import re

import pytest

from tests.support.people import registration

MADE = re.compile(r"[0-9a-f]{32}")


def test_a_sane_request_id_is_sent_back(client, auth):
    response = client.post("/v1/registrations", json=registration(), headers={**auth, "X-Request-Id": "abc-123_X.y"})
    assert response.status_code == 201 and response.headers["X-Request-Id"] == "abc-123_X.y"


def test_without_one_a_fresh_id_is_made_for_every_request(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert MADE.fullmatch(first.headers["X-Request-Id"]) and MADE.fullmatch(second.headers["X-Request-Id"])
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


@pytest.mark.parametrize("sent", ["", "a" * 129, "has space", "tab\there", "名字", "line\x7fbreak"])
def test_an_id_that_is_not_short_visible_ascii_is_replaced(client, sent):
    response = client.get("/healthz", headers={"X-Request-Id": sent})
    assert MADE.fullmatch(response.headers["X-Request-Id"])
    assert response.headers.getlist("X-Request-Id") == [response.headers["X-Request-Id"]]


def test_the_longest_sane_id_is_kept(client):
    sent = "t" * 128
    assert client.get("/healthz", headers={"X-Request-Id": sent}).headers["X-Request-Id"] == sent


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("GET", "/v1/nowhere", {}, 404),
    ("GET", "/v1/accounts/psn_x", {}, 401),
    ("POST", "/v1/registrations", {"data": "x", "content_type": "text/plain"}, 415),
    ("PUT", "/healthz", {}, 405),
])
def test_error_answers_carry_the_request_id_too(client, auth, method, path, kwargs, status):
    headers = {"X-Request-Id": "trace-err"}
    if status == 415:
        headers.update(auth)
    response = client.open(path, method=method, headers=headers, **kwargs)
    assert response.status_code == status and response.headers["X-Request-Id"] == "trace-err"
