"""The verification page through the Flask test client: what the person sees, what the platform
then reads, the security headers, CSRF, the 5-refusal limit, and that no submitted value leaks."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import date

import pytest
from sqlalchemy import select

from identity.errors import VerificationUnavailable
from identity.extensions import db
from identity.models import VerificationSession
from tests.support.people import register, resident_id
from tests.support.sanctions import file
from tests.support.verification import (
    RETURN_URL,
    create_session,
    csrf_token,
    page_path,
    page_policy,
    person_form,
    submit,
)

SESSIONS = "/v1/verification-sessions"
VALID = resident_id(sequence=7)
WRONG_CHECK_DIGIT = VALID[:-1] + ("1" if VALID[-1] != "1" else "2")


@pytest.fixture
def forum(platforms):
    platform = platforms.create("forum", **page_policy())
    return platform, platforms.headers(platform)


def session_row(app, session_id: str) -> VerificationSession:
    with app.app_context():
        row = db.session.scalar(select(VerificationSession).where(VerificationSession.id == session_id))
        db.session.expunge(row)
        return row


def directives(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))


def test_the_page_asks_in_chinese_with_every_field_labelled(client, forum):
    _, headers = forum
    page = client.get(page_path(create_session(client, headers)))
    html = page.get_data(as_text=True)

    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="zh-CN">' in html and "<title>实名认证 – 实名认证服务</title>" in html
    for shown in ("姓名", "居民身份证", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "护照",
                  "外国人永久居留身份证", "证件号码", "护照签发国家或地区", "我已阅读并同意隐私声明（版本 2026-01）",
                  "https://forum.example/privacy", "仅在您未满 14 周岁时勾选"):
        assert shown in html, shown
    for field in ("real_name", "id_number", "issuing_country", "consent", "guardian_consent"):
        assert f'<label class="label" for="{field}">' in html or f'for="{field}">' in html, field
    assert 'name="phone"' not in html  # the default policy forbids collecting phones
    assert "<script" not in html and "style=" not in html


def test_the_page_speaks_english_when_the_session_says_so(client, forum):
    _, headers = forum
    html = client.get(page_path(create_session(client, headers, locale="en"))).get_data(as_text=True)
    assert '<html lang="en">' in html and "<title>Verify your identity – Real-name verification service</title>" in html
    for shown in ("Full name", "Resident Identity Card", "Mainland Travel Permit for Hong Kong and Macao Residents",
                  "Passport", "I have read the privacy notice (version 2026-01) and I accept it"):
        assert shown in html, shown


def test_every_answer_of_the_page_is_no_store_under_a_strict_policy(client, forum):
    _, headers = forum
    session = create_session(client, headers)
    shown = client.get(page_path(session))
    refused = submit(client, session, person_form(WRONG_CHECK_DIGIT))
    missing = client.get("/verify/vs_00000000000000000000000000/nope")
    for response in (shown, refused, missing):
        policy = directives(response)
        assert policy["default-src"] == "'none'" and policy["style-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'" and "script-src" not in policy
        assert policy["form-action"] == "'self' https://forum.example" or response is missing
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
    assert missing.status_code == 404
    css = client.get("/verify-assets/verify.css")
    assert css.status_code == 200 and css.mimetype == "text/css"


def test_a_wrong_check_digit_is_shown_next_to_the_number_and_the_values_are_kept(app, client, forum):
    _, headers = forum
    session = create_session(client, headers)
    refused = submit(client, session, person_form(WRONG_CHECK_DIGIT, name="王小明"))
    html = refused.get_data(as_text=True)

    assert refused.status_code == 422
    assert "<title>错误： 实名认证 – 实名认证服务</title>" in html
    assert '<h2 class="error-summary__title" id="error-summary-title">出现问题</h2>' in html
    assert '<li><a href="#id_number">最后一位校验码与前面的号码不符：请检查是否输错</a></li>' in html
    number_input = re.search(r'<input[^>]*id="id_number"[^>]*>', html).group(0)
    assert 'aria-describedby="id_number-hint id_number-error"' in number_input
    assert 'aria-invalid="true"' in number_input and "autofocus" in number_input
    assert f'value="{WRONG_CHECK_DIGIT}"' in number_input  # kept, in the person's own no-store page
    assert re.search(r'<p class="error-message" id="id_number-error">\s*<span class="visually-hidden">错误：</span>'
                     r' 最后一位校验码', html)
    assert 'value="王小明"' in html and 'value="cn_resident_id" checked' in html
    assert html.count("autofocus") == 1
    row = session_row(app, session["id"])
    assert row.refused_submissions == 1 and row.status == "pending" and row.last_error_code == "validation_failed"
    read = client.get(f"{SESSIONS}/{session['id']}", headers=headers).get_json()
    assert read["status"] == "pending" and read["last_error"] == {"code": "validation_failed"}


def test_a_valid_person_is_registered_and_sent_back_with_only_the_session_and_state(client, forum):
    _, headers = forum
    session = create_session(client, headers)
    done = submit(client, session, person_form(VALID))

    assert done.status_code == 303
    assert done.headers["Location"] == f"{RETURN_URL}?session={session['id']}&state=opaque-123"
    read = client.get(f"{SESSIONS}/{session['id']}", headers=headers).get_json()
    assert read["status"] == "completed" and read["last_error"] is None
    assert read["account"]["pseudonym"].startswith("psn_") and read["account"]["external_ref"] == "forum-user-42"
    account = client.get(f"/v1/accounts/{read['account']['pseudonym']}", headers=headers).get_json()
    assert account["verification"]["level"] == "document_checked"
    again = client.get(page_path(session))
    assert again.status_code == 410 and "您已通过此链接完成实名认证" in again.get_data(as_text=True)


def test_a_form_without_its_csrf_token_is_refused_and_not_counted(app, client, forum):
    _, headers = forum
    session = create_session(client, headers)
    client.get(page_path(session))
    forged = client.post(page_path(session), data=person_form(VALID))
    wrong = client.post(page_path(session), data={**person_form(VALID), "csrf_token": "forged"})
    for response in (forged, wrong):
        assert response.status_code == 400
        assert "为保障您的安全，表单已超时" in response.get_data(as_text=True)
    row = session_row(app, session["id"])
    assert row.status == "pending" and row.refused_submissions == 0 and row.account_id is None


def test_a_form_is_not_json_and_the_json_rule_does_not_refuse_it(client, forum):
    _, headers = forum
    session = create_session(client, headers)
    page = client.get(page_path(session))
    response = client.post(page_path(session), data={**person_form(VALID),
                                                      "csrf_token": csrf_token(page.get_data(as_text=True))},
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 303


def test_five_refused_submissions_end_the_session_and_the_link(app, client, forum):
    _, headers = forum
    session = create_session(client, headers, locale="en")
    for _ in range(4):
        assert submit(client, session, person_form(WRONG_CHECK_DIGIT)).status_code == 422
    fifth = submit(client, session, {"real_name": "", "id_type": "", "id_number": "", "consent": "y"})
    assert fifth.status_code == 410
    assert "the form was refused 5 times" in fifth.get_data(as_text=True)
    read = client.get(f"{SESSIONS}/{session['id']}", headers=headers).get_json()
    assert read["status"] == "failed" and read["last_error"] == {"code": "too_many_attempts"}
    page = client.get(page_path(session))
    assert page.status_code == 410 and "the form was refused 5 times" in page.get_data(as_text=True)


def test_an_expired_link_answers_410(clock, client, forum, monkeypatch):
    _, headers = forum
    session = create_session(client, headers)
    clock.advance(minutes=31)
    assert client.get(page_path(session)).status_code == 410
    assert client.post(page_path(session), data=person_form(VALID)).status_code == 410


def test_a_wrong_secret_or_unknown_session_is_not_found(client, forum):
    _, headers = forum
    session = create_session(client, headers)
    path = page_path(session)
    wrong = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    assert client.get(wrong).status_code == 404
    assert "此链接无效" in client.get(wrong).get_data(as_text=True)
    assert client.get(path).status_code == 200  # a wrong guess does not end the right link


def test_empty_fields_and_no_consent_are_each_named(client, forum):
    _, headers = forum
    session = create_session(client, headers, locale="en")
    html = submit(client, session, {"real_name": "", "id_type": "", "id_number": ""}).get_data(as_text=True)
    assert '<li><a href="#consent">Tick the box to accept the privacy notice' in html
    html = submit(client, session, {"real_name": "", "id_type": "", "id_number": "", "consent": "y"}) \
        .get_data(as_text=True)
    summary = re.findall(r'<li><a href="#(\w+)">([^<]+)</a></li>', html)
    assert summary == [("real_name", "Enter your full name, as on your document"),
                       ("id_type", "Select the type of your identity document")]


def test_a_child_is_asked_for_guardian_consent_then_registered(client, forum):
    _, headers = forum
    session = create_session(client, headers, locale="en")
    child = resident_id(birth=date(date.today().year - 10, 1, 1), sequence=3)
    refused = submit(client, session, person_form(child))
    assert refused.status_code == 422
    assert '<li><a href="#guardian_consent">You are under 14' in refused.get_data(as_text=True)
    done = submit(client, session, person_form(child, guardian_consent="y"))
    assert done.status_code == 303


def test_the_phone_is_asked_where_the_policy_requires_it(client, platforms):
    platform = platforms.create("forum", **page_policy(phone="required"))
    headers = platforms.headers(platform)
    session = create_session(client, headers, locale="en")
    refused = submit(client, session, person_form(VALID))
    assert '<li><a href="#phone">Enter your mobile phone number</a></li>' in refused.get_data(as_text=True)
    assert submit(client, session, person_form(VALID, phone="+86 138 0013 8000")).status_code == 303


def test_a_passport_needs_its_country(client, forum):
    _, headers = forum
    session = create_session(client, headers, locale="en")
    form = {"real_name": "Anna Müller", "id_type": "passport", "id_number": "C01X00T47", "consent": "y"}
    refused = submit(client, session, form)
    assert '<li><a href="#issuing_country">Select the country or region that issued your passport' in \
        refused.get_data(as_text=True)
    assert submit(client, session, {**form, "issuing_country": "DEU"}).status_code == 303


def test_a_person_already_registered_fails_the_session_with_their_account(client, forum):
    _, headers = forum
    existing = register(client, headers, number=VALID)
    session = create_session(client, headers)
    ended = submit(client, session, person_form(VALID))
    assert ended.status_code == 200 and "您在此平台已有账号" in ended.get_data(as_text=True)
    assert f'href="{RETURN_URL}?session={session["id"]}&amp;state=opaque-123"' in ended.get_data(as_text=True)
    read = client.get(f"{SESSIONS}/{session['id']}", headers=headers).get_json()
    assert read["status"] == "failed" and read["last_error"] == {"code": "duplicate_identity"}
    assert read["account"]["pseudonym"] == existing


def test_a_blacklisted_person_fails_the_session_as_refused(client, forum):
    _, headers = forum
    pseudonym = register(client, headers, number=VALID)
    file(client, headers, pseudonym, kind="blacklist")
    client.delete(f"/v1/accounts/{pseudonym}", headers=headers)
    session = create_session(client, headers, locale="en")
    ended = submit(client, session, person_form(VALID))
    assert ended.status_code == 200 and "You cannot register on this platform" in ended.get_data(as_text=True)
    read = client.get(f"{SESSIONS}/{session['id']}", headers=headers).get_json()
    assert read["status"] == "failed" and read["last_error"] == {"code": "registration_refused"}
    assert read["account"] is None


def test_an_unavailable_authority_asks_to_retry_without_counting(app, client, forum, monkeypatch):
    _, headers = forum
    session = create_session(client, headers, locale="en")

    class Down:
        is_remote = False

        def verify(self, *_args):
            raise VerificationUnavailable(retry_after=30)

    runtime = app.extensions["identity"]
    monkeypatch.setattr(runtime, "registrar", dataclasses.replace(runtime.registrar, verifier=Down()))
    busy = submit(client, session, person_form(VALID, name="Li Lei"))
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    html = busy.get_data(as_text=True)
    assert "The service is busy" in html and 'value="Li Lei"' in html
    assert session_row(app, session["id"]).refused_submissions == 0


def test_no_submitted_name_or_number_reaches_a_log_a_url_or_the_title(app, client, forum, caplog, capfd):
    _, headers = forum
    caplog.set_level(logging.DEBUG)
    name, number = "欧阳娜娜", resident_id(sequence=911)
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    session = create_session(client, headers)
    refused = submit(client, session, person_form(wrong, name=name))
    done = submit(client, session, person_form(number, name=name))
    assert done.status_code == 303 and number not in done.headers["Location"] and name not in done.headers["Location"]
    title = re.search(r"<title>(.*)</title>", refused.get_data(as_text=True)).group(1)
    assert number[:-1] not in title and name not in title
    out, err = capfd.readouterr()
    for value in (name, number, wrong, number[:-1]):
        assert value not in caplog.text and value not in out and value not in err, value


def test_each_page_posts_to_its_own_link_with_its_own_token(client, forum, platforms):
    _, headers = forum
    first, second = create_session(client, headers), create_session(client, headers)
    pages = {path: client.get(path).get_data(as_text=True) for path in (page_path(first), page_path(second))}
    for path, html in pages.items():
        assert re.findall(r'<form method="post" action="([^"]+)"', html) == [path]
        assert "<!--page-" not in html
    assert csrf_token(pages[page_path(first)]) != csrf_token(client.application.test_client().get(
        page_path(second)).get_data(as_text=True))
    other = platforms.create("other forum", **page_policy(phone="optional"))
    html = client.get(page_path(create_session(client, platforms.headers(other)))).get_data(as_text=True)
    assert "「other forum」" in html and 'name="phone"' in html  # its own name and policy, not the cached forum's
