"""/metrics: the running version, the verification authority's calls (latency and outcome) and the
age of each kind's primary key."""

from __future__ import annotations

import platform
import re
from dataclasses import replace
from importlib.metadata import version

import pytest

from identity.extensions import db
from identity.models.keyring import KEY_PRIMARY, KeyVersion
from tests.conftest import Platforms
from tests.support.authority import Authority
from tests.support.people import registration, resident_id
from tests.support.serving import running_app


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name{labels}` (labels in any order), or None."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_:]+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_build_info_names_the_version_and_python(client):
    assert metric(scrape(client), "identity_build_info", version=version("identity-service"),
                  python_version=platform.python_version()) == 1


def test_key_age_per_kind_is_the_age_of_its_primary_key(app, client):
    with app.app_context():
        kinds = {key.kind: key.created_at for key in db.session.query(KeyVersion).filter_by(state=KEY_PRIMARY)}
    text = scrape(client)
    assert set(kinds) >= {"data", "index", "signing"}
    for kind in kinds:
        age = metric(text, "identity_key_age_seconds", kind=kind)
        assert age is not None and 0 <= age < 24 * 3600, (kind, age)


@pytest.fixture
def authority():
    number = resident_id(sequence=3)
    with Authority(known={("张三", number)}) as running:
        yield running, number


def test_authority_calls_are_counted_by_outcome_with_their_latency(settings, authority):
    running, number = authority
    with running_app(replace(settings, verifier="http", verifier_url=running.url)) as app:
        client = app.test_client()
        platforms = Platforms(app)
        key = platforms.key(platforms.create())
        auth = {"Authorization": f"Bearer {key}"}
        before = scrape(client)
        assert client.post("/v1/registrations", json=registration(number), headers=auth).status_code == 201
        mismatch = registration(resident_id(sequence=4))
        assert client.post("/v1/registrations", json=mismatch, headers=auth).status_code == 422
        running.fail_next(3, status=500)
        other = registration(resident_id(sequence=5))
        assert client.post("/v1/registrations", json=other, headers=auth).status_code == 503
        after = scrape(client)
    for outcome in ("match", "no_match", "server_error"):
        was = metric(before, "identity_authority_calls_total", outcome=outcome) or 0
        assert metric(after, "identity_authority_calls_total", outcome=outcome) == was + 1, outcome
    count_before = metric(before, "identity_authority_call_duration_seconds_count") or 0
    assert metric(after, "identity_authority_call_duration_seconds_count") == count_before + 3
    assert "张三" not in after and number not in after
