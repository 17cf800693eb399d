"""A slow or failing verification authority cannot hold the service's workers.

A real HTTP authority on 127.0.0.1, driven through POST /v1/registrations: the circuit opens
after repeated failures and then answers 503 without calling the authority, closes again
after its cool-down, and a call that finds every slot taken is answered at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from sqlalchemy import func, select

from identity import create_app
from identity.extensions import db
from identity.models import Person
from tests.conftest import Platforms
from tests.support.authority import Authority
from tests.support.people import registration, resident_id

SLOW = 1.0  # the verifier's timeout in these tests: far above what an answered-at-once call takes


def guarded_app(settings, url, **overrides):
    options = {"verifier_retries": 0, "verifier_timeout_seconds": SLOW, **overrides}
    app = create_app(replace(settings, verifier="http", verifier_url=url, **options))
    helper = Platforms(app)
    return app, helper.headers(helper.create())


def people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


def person(sequence: int) -> dict:
    return registration(resident_id(sequence=sequence), name="张三")


def metric(client, name: str) -> float:
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_the_circuit_opens_after_repeated_failures_and_answers_at_once(settings):
    with Authority() as authority:
        authority.sleep_before_answer(5)  # every call times out
        app, headers = guarded_app(settings, authority.url, verifier_failure_threshold=2,
                                   verifier_cooldown_seconds=60)
        client = app.test_client()
        for sequence in (1, 2):
            response = client.post("/v1/registrations", json=person(sequence), headers=headers)
            assert response.status_code == 503
            assert response.get_json()["code"] == "verification_unavailable"
        assert authority.calls == 2

        started = time.monotonic()
        response = client.post("/v1/registrations", json=person(3), headers=headers)
        elapsed = time.monotonic() - started

        assert response.status_code == 503
        assert response.get_json()["code"] == "verification_unavailable"
        assert response.content_type == "application/problem+json"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert authority.calls == 2  # the authority was not asked
        assert elapsed < SLOW / 2  # answered without waiting for any timeout
        assert people(app) == 0
        assert metric(client, "identity_verifier_circuit_state") == 2
        assert metric(client, 'identity_verifier_refused_total{reason="circuit_open"}') >= 1


def test_the_circuit_closes_after_the_cool_down_when_the_authority_answers(settings):
    with Authority(known={("张三", resident_id(sequence=3))}) as authority:
        authority.fail_next(2, status=500)
        app, headers = guarded_app(settings, authority.url, verifier_failure_threshold=2,
                                   verifier_cooldown_seconds=0.5)
        client = app.test_client()
        for sequence in (1, 2):
            assert client.post("/v1/registrations", json=person(sequence), headers=headers).status_code == 503
        assert client.post("/v1/registrations", json=person(3), headers=headers).status_code == 503
        assert authority.calls == 2

        time.sleep(0.6)
        response = client.post("/v1/registrations", json=person(3), headers=headers)

        assert response.status_code == 201, response.get_json()
        assert response.get_json()["verification"]["level"] == "authority_verified"
        assert authority.calls == 3
        assert metric(client, "identity_verifier_circuit_state") == 0
        # Closed again: the next failure counts from zero, it does not reopen the circuit at once.
        authority.fail_next(1, status=500)
        assert client.post("/v1/registrations", json=person(4), headers=headers).status_code == 503
        assert client.post("/v1/registrations", json=person(5), headers=headers).status_code == 422
        assert authority.calls == 5


def test_a_failed_probe_opens_the_circuit_for_another_cool_down(settings):
    with Authority() as authority:
        authority.answer_unavailable(retry_after=None, status=500)
        app, headers = guarded_app(settings, authority.url, verifier_failure_threshold=1,
                                   verifier_cooldown_seconds=0.5)
        client = app.test_client()
        assert client.post("/v1/registrations", json=person(1), headers=headers).status_code == 503
        time.sleep(0.6)
        assert client.post("/v1/registrations", json=person(2), headers=headers).status_code == 503
        assert authority.calls == 2  # the probe
        assert client.post("/v1/registrations", json=person(3), headers=headers).status_code == 503
        assert authority.calls == 2  # open again after one failed probe
        assert people(app) == 0


def test_a_call_that_finds_every_slot_taken_is_answered_at_once(settings):
    slow_number = resident_id(sequence=1)
    with Authority(known={("张三", slow_number)}) as authority:
        authority.slow_next(0.8)
        app, headers = guarded_app(settings, authority.url, verifier_max_concurrent=1,
                                   verifier_timeout_seconds=5.0)
        first: dict = {}

        def register_slowly() -> None:
            response = app.test_client().post("/v1/registrations", json=person(1), headers=headers)
            first["status"] = response.status_code

        worker = threading.Thread(target=register_slowly)
        worker.start()
        deadline = time.monotonic() + 5
        while authority.calls == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert authority.calls == 1

        started = time.monotonic()
        response = app.test_client().post("/v1/registrations", json=person(2), headers=headers)
        elapsed = time.monotonic() - started
        worker.join(10)

        assert response.status_code == 503
        assert response.get_json()["code"] == "verification_unavailable"
        assert int(response.headers["Retry-After"]) >= 1
        assert elapsed < 0.8  # not queued behind the slow call
        assert authority.calls == 1
        assert first["status"] == 201  # the call in flight was not disturbed
        assert people(app) == 1  # only the first person
