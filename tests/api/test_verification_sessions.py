"""/v1/verification-sessions: create, read, cancel; only the platform's own; only its own return URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from identity.extensions import db
from identity.models import VerificationSession
from tests.support.verification import RETURN_URL, create_session, page_path, page_policy

CREATE = "/v1/verification-sessions"


def test_a_session_is_created_pending_for_30_minutes_with_a_page_link(clock, app, client, platforms, monkeypatch):
    platform = platforms.create("forum", **page_policy())
    headers = platforms.headers(platform)
    response = client.post(CREATE, headers=headers, json={"return_url": RETURN_URL, "state": "opaque-123"})
    created = response.get_json()

    assert response.status_code == 201 and response.headers["Location"] == f"{CREATE}/{created['id']}"
    assert created["id"].startswith("vs_") and created["status"] == "pending"
    assert created["expires_at"] == (clock.now() + __import__("datetime").timedelta(minutes=30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    link = urlsplit(created["url"])
    assert created["url"].startswith(app.extensions["identity"].settings.issuer)
    assert link.path.startswith(f"/verify/{created['id']}/") and not link.query
    assert response.headers["Cache-Control"] == "no-store"
    secret = link.path.rsplit("/", 1)[1]
    with app.app_context():
        row = db.session.get(VerificationSession, created["id"])
        assert row.secret_hash != secret.encode() and len(row.secret_hash) == 32  # a digest, never the secret
        assert row.locale == "zh-CN" and row.refused_submissions == 0

    read = client.get(f"{CREATE}/{created['id']}", headers=headers).get_json()
    assert read == {"id": created["id"], "status": "pending", "expires_at": created["expires_at"],
                    "external_ref": None, "state": "opaque-123", "account": None, "last_error": None}


def test_a_return_url_not_in_the_policy_is_refused_and_nothing_is_stored(app, client, platforms):
    platform = platforms.create("forum", **page_policy())
    headers = platforms.headers(platform)
    for url in ("https://forum.example/after-verify/", "https://evil.example/after-verify",
                "http://forum.example/after-verify", "javascript:alert(1)"):
        response = client.post(CREATE, headers=headers, json={"return_url": url})
        problem = response.get_json()
        assert response.status_code == 422 and problem["code"] == "validation_failed", url
        assert list(problem["errors"]) == ["return_url"]
    for body in ({"return_url": RETURN_URL, "locale": "fr"}, {"return_url": RETURN_URL, "state": "s" * 129},
                 {"return_url": RETURN_URL, "surprise": 1}, {}):
        assert client.post(CREATE, headers=headers, json=body).status_code == 422, body
    with app.app_context():
        assert db.session.scalars(select(VerificationSession)).all() == []


def test_a_platform_without_a_notice_version_cannot_create_sessions(client, platforms):
    platform = platforms.create("forum", return_urls=[RETURN_URL])
    response = client.post(CREATE, headers=platforms.headers(platform), json={"return_url": RETURN_URL})
    assert response.status_code == 422 and "notice_version" in response.get_json()["errors"]["body"][0]


def test_another_platforms_session_is_answered_as_missing(client, platforms):
    mine = platforms.create("forum", **page_policy())
    theirs = platforms.create("other", **page_policy())
    created = create_session(client, platforms.headers(mine))
    other_headers = platforms.headers(theirs)
    for method, path in (("GET", f"{CREATE}/{created['id']}"), ("POST", f"{CREATE}/{created['id']}/cancel")):
        response = client.open(path, method=method, headers=other_headers)
        assert response.status_code == 404 and response.get_json()["code"] == "not_found"
    assert client.get(f"{CREATE}/vs_nonsense", headers=other_headers).status_code == 404
    assert client.get(page_path(created)).status_code == 200  # the other platform's cancel changed nothing


def test_creating_honours_idempotency_key(client, platforms):
    platform = platforms.create("forum", **page_policy())
    headers = {**platforms.headers(platform), "Idempotency-Key": "verify-42"}
    first = client.post(CREATE, headers=headers, json={"return_url": RETURN_URL, "state": "a"})
    again = client.post(CREATE, headers=headers, json={"return_url": RETURN_URL, "state": "a"})
    other = client.post(CREATE, headers=headers, json={"return_url": RETURN_URL, "state": "b"})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"


def test_cancel_ends_a_pending_session_and_its_link(client, platforms):
    platform = platforms.create("forum", **page_policy())
    headers = platforms.headers(platform)
    created = create_session(client, headers)
    canceled = client.post(f"{CREATE}/{created['id']}/cancel", headers=headers)
    assert canceled.status_code == 200 and canceled.get_json()["status"] == "canceled"
    assert client.post(f"{CREATE}/{created['id']}/cancel", headers=headers).status_code == 200  # again: no change
    page = client.get(page_path(created))
    assert page.status_code == 410
    assert "平台已取消此链接" in page.get_data(as_text=True)


def test_a_session_past_30_minutes_reads_expired_and_cannot_be_canceled(clock, client, platforms, monkeypatch):
    platform = platforms.create("forum", **page_policy())
    headers = platforms.headers(platform)
    created = create_session(client, headers, locale="en")
    clock.advance(minutes=30)
    assert client.get(f"{CREATE}/{created['id']}", headers=headers).get_json()["status"] == "expired"
    response = client.post(f"{CREATE}/{created['id']}/cancel", headers=headers)
    assert response.status_code == 409 and response.get_json()["code"] == "conflict"
    page = client.get(page_path(created))
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)


def test_the_scope_is_registrations_write(client, platforms):
    platform = platforms.create("forum", **page_policy())
    response = client.post(CREATE, headers=platforms.headers(platform, ("accounts:read",)),
                           json={"return_url": RETURN_URL})
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
