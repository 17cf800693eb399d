"""Registration against a real HTTP verification authority on loopback."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from identity import create_app
from identity.extensions import db
from identity.models import Person
from tests.conftest import Platforms
from tests.support.authority import Authority, refused_url
from tests.support.people import registration

NUMBER = "11010519491231002X"


def app_with_authority(settings, url, **overrides):
    app = create_app(replace(settings, verifier="http", verifier_url=url, **overrides))
    helper = Platforms(app)
    return app, helper.headers(helper.create())


def people(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Person))


def test_a_confirmed_identity_is_authority_verified(settings):
    with Authority(known={("张三", NUMBER)}) as authority:
        app, headers = app_with_authority(settings, authority.url)
        response = app.test_client().post("/v1/registrations", json=registration(NUMBER), headers=headers)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["verification"]["level"] == "authority_verified"
        assert response.get_json()["verification"]["method"] == "http"
        assert authority.bodies == [{"real_name": "张三", "id_type": "cn_resident_id", "id_number": NUMBER}]


def test_a_mismatch_is_not_verified_and_nothing_is_stored(settings):
    with Authority(known=set()) as authority:
        app, headers = app_with_authority(settings, authority.url)
        response = app.test_client().post("/v1/registrations", json=registration(NUMBER), headers=headers)
        assert response.status_code == 422
        assert response.get_json()["code"] == "identity_not_verified"
        assert people(app) == 0


def test_an_unreachable_authority_is_unavailable_with_retry_after(settings):
    app, headers = app_with_authority(settings, refused_url(), verifier_retries=0)
    response = app.test_client().post("/v1/registrations", json=registration(NUMBER), headers=headers)
    assert response.status_code == 503
    assert response.get_json()["code"] == "verification_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert people(app) == 0


def test_a_slow_authority_times_out_and_stores_nothing(settings):
    with Authority(known={("张三", NUMBER)}) as authority:
        authority.sleep_before_answer(2)
        app, headers = app_with_authority(settings, authority.url, verifier_timeout_seconds=0.3, verifier_retries=0)
        response = app.test_client().post("/v1/registrations", json=registration(NUMBER), headers=headers)
        assert response.status_code == 503
        assert people(app) == 0


def test_duplicates_are_answered_before_asking_the_authority(settings):
    with Authority(known={("张三", NUMBER)}) as authority:
        app, headers = app_with_authority(settings, authority.url)
        client = app.test_client()
        assert client.post("/v1/registrations", json=registration(NUMBER), headers=headers).status_code == 201
        assert client.post("/v1/registrations", json=registration(NUMBER), headers=headers).status_code == 409
        assert len(authority.bodies) == 1
