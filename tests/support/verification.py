"""Verification sessions for tests: a platform whose policy allows the page, a session, its page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

RETURN_URL = "https://forum.example/after-verify"
NOTICE = {"notice_version": "2026-01", "notice_url": "https://forum.example/privacy"}


def page_policy(*return_urls: str, **more: Any) -> dict[str, Any]:
    return {"return_urls": list(return_urls or (RETURN_URL,)), **NOTICE, **more}


def create_session(client: FlaskClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/v1/verification-sessions", headers=headers,
                           json={"return_url": RETURN_URL, "external_ref": "forum-user-42", "state": "opaque-123",
                                 **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def page_path(session: dict[str, Any]) -> str:
    return urlsplit(session["url"]).path


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def person_form(number: str, *, name: str = "张三", **more: str) -> dict[str, str]:
    return {"real_name": name, "id_type": "cn_resident_id", "id_number": number, "consent": "y", **more}


def submit(client: FlaskClient, session: dict[str, Any], form: dict[str, str]) -> Any:
    """GET the page (for its CSRF token and cookie), then POST the form to the same URL."""
    page = client.get(page_path(session))
    assert page.status_code == 200, page.status_code
    return client.post(page_path(session), data={**form, "csrf_token": csrf_token(page.get_data(as_text=True))})
