"""GET and POST of the page `/verify/{session_id}/{secret}`.

GET shows the form; POST registers the person through the same call as the API and then sends
them back to the platform (303), shows what to correct next to each field (422), or says how
the session ended. The form posts back to its own URL, so the secret never travels in a body or
a query string, and the ID number never in a URL. Every answer is `no-store`, under a strict CSP.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import pycountry
from babel import Locale
from flask import Blueprint, Response, g, make_response, redirect, render_template, request
from flask_babel import LazyString
from flask_wtf.csrf import generate_csrf, validate_csrf
from markupsafe import Markup, escape
from wtforms import ValidationError

from identity.api import registering
from identity.api.request_scope import current_time
from identity.api.transactions import READS, WRITES, transaction
from identity.documents import DOCUMENT_TYPES
from identity.documents.model import CN_FOREIGN_PERMANENT_RESIDENT_ID, CN_RESIDENT_ID, PASSPORT
from identity.errors import (
    AgeRequirementNotMet,
    DomainError,
    DuplicateIdentity,
    GuardianConsentRequired,
    IdentityNotVerified,
    RateLimited,
    RegistrationRefused,
    ValidationFailed,
    VerificationUnavailable,
)
from identity.extensions import db
from identity.models import Platform, VerificationSession
from identity.services import verification_sessions as sessions
from identity.services.authentication import Principal
from identity.services.platforms import PlatformPolicy, policy_of
from identity.services.registration import RegistrationRequest
from identity.web import wording as w
from identity.web.forms import VerificationForm

PAGE_PREFIX = sessions.PAGE_PREFIX
blp = Blueprint("verification-page", __name__, template_folder="templates", static_folder="static",
                static_url_path="/verify-assets")
PAGE_RULE = f"{PAGE_PREFIX}/<string:session_id>/<string:secret>"
# Types whose number carries a birth date: an age refusal means the person is too young, not unknown.
_DATED_TYPES = (CN_RESIDENT_ID, CN_FOREIGN_PERMANENT_RESIDENT_ID)


@blp.before_request
def _default_locale() -> None:
    g.page_locale = sessions.DEFAULT_LOCALE


@blp.after_request
def _page_headers(response: Response) -> Response:
    # form-action: Chromium applies it to the 303 that follows the form too, so the return URL's
    # origin is allowed beside the page's own (and only on a page whose session names one).
    form_action = " ".join(("'self'", *([g.return_origin] if g.get("return_origin") else [])))
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        f"form-action {form_action}; frame-ancestors 'none'")
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.errorhandler(DomainError)
def _busy(error: DomainError) -> Response:
    """What reaches here was raised before the view (the per-address rate limit): a plain page."""
    response = make_response(render_template("message.html", heading=w.BUSY_HEADING, message=w.RETRY),
                             error.status)
    if isinstance(error, RateLimited | VerificationUnavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@blp.route(PAGE_RULE, methods=["GET"])
@transaction(READS)
def show(session_id: str, secret: str) -> Any:
    try:
        view = sessions.page_view(db.session(), session_id, secret, current_time())
    except sessions.PageUnavailable as unavailable:
        return _unavailable(unavailable)
    g.page_locale = view.locale
    if not view.platform_active:
        return _message(w.ENDED_HEADING, w.ENDED["failed"], 410)
    g.return_origin = _origin(view.return_url)
    blank = _blank_form(view.locale, view.platform_name, view.policy)
    # Only the two values that differ between people are put in: this page's own URL and its token.
    html = blank.replace(_ACTION, str(escape(request.path)), 1).replace(_CSRF, str(escape(generate_csrf())), 1)
    return make_response(html, 200)


# Placeholders of the blank form: "<" never survives escaping, so no rendered text can contain them.
_ACTION, _CSRF = "<!--page-action-->", "<!--page-csrf-->"


@functools.lru_cache(maxsize=256)
def _blank_form(locale: str, platform_name: str, policy: PlatformPolicy) -> str:
    """The form as every person of a platform first sees it, rendered once per process for each
    language and policy (rendering was two thirds of the page's CPU): everything it shows is in
    the key, and nothing about a person is in it. Called inside a request whose locale is `locale`."""
    return render_template("form.html", form=VerificationForm(formdata=None, meta={"csrf": False}), errors={},
                           first_error=None, notice=None, platform_name=platform_name, policy=policy,
                           document_types=DOCUMENT_TYPES, document_names=w.DOCUMENT_NAMES,
                           action=Markup(_ACTION), csrf_token=Markup(_CSRF),  # noqa: S704 - constants  # nosec B704
                           country_options=_country_options(locale, ""))


@blp.route(PAGE_RULE, methods=["POST"])
@transaction(WRITES)
def submit(session_id: str, secret: str) -> Any:
    now = current_time()
    opened = _open(session_id, secret, now, for_update=True)
    if isinstance(opened, Response):
        return opened
    row, platform = opened
    form = VerificationForm()
    try:
        validate_csrf(form.csrf_token.data)
    except ValidationError:
        return _form_page(row, platform, form, {}, 400, notice=w.FORM_TIMED_OUT)  # not the person's mistake
    errors: dict[str, list[LazyString]] = {}
    if not form.consent.data:
        errors[w.CONSENT] = [w.CONSENT_MISSING]
    code = "validation_failed"
    if not errors:
        try:
            # The API's own registration call (services.registration.register_person), for the platform.
            view = registering.register(_principal_for(platform, row), _registration_request(form, platform, row, now))
        except ValidationFailed as refused:
            errors = _field_errors(refused.errors, form)
        except GuardianConsentRequired as refused:
            errors, code = {w.GUARDIAN: [w.GUARDIAN_MISSING]}, refused.code
        except AgeRequirementNotMet as refused:
            code = refused.code
            min_age = policy_of(platform).min_age
            errors = ({w.NUMBER: [LazyString(lambda: str(w.TOO_YOUNG) % {"age": min_age})]}
                      if form.text("id_type") in _DATED_TYPES else {w.TYPE: [w.NO_BIRTH_DATE]})
        except IdentityNotVerified as refused:
            errors, code = {w.NAME: [w.NOT_VERIFIED]}, refused.code
        except DuplicateIdentity as refused:
            return _ended(row.id, now, refused.code, w.DUPLICATE, refused.existing_pseudonyms)
        except RegistrationRefused as refused:
            return _ended(row.id, now, refused.code, w.REFUSED, [])
        except (RateLimited, VerificationUnavailable) as busy:
            db.session.rollback()  # not the person's doing: not counted
            response = _form_page(row, platform, form, {}, busy.status, notice=w.RETRY)
            response.headers["Retry-After"] = str(busy.retry_after)
            return response
        else:
            row = sessions.lock(db.session(), row.id)
            sessions.complete(db.session(), row, view.account.pseudonym, now)
            db.session.commit()
            return redirect(_back_to_platform(row), 303)
    return _refused_submission(row.id, platform, form, errors, code, now)


def _open(session_id: str, secret: str, now: datetime, *,
          for_update: bool) -> Response | tuple[VerificationSession, Platform]:
    try:
        row = sessions.open_page(db.session(), session_id, secret, now, for_update=for_update)
    except sessions.PageUnavailable as unavailable:
        return _unavailable(unavailable)
    g.page_locale = row.locale
    platform = db.session.get(Platform, row.platform_id)
    if platform is None or platform.status != "active":
        return _message(w.ENDED_HEADING, w.ENDED["failed"], 410)
    g.return_origin = _origin(row.return_url)
    return row, platform


def _unavailable(unavailable: sessions.PageUnavailable) -> Response:
    g.page_locale = unavailable.locale
    if not unavailable.gone:
        return _message(w.ENDED_HEADING, w.NOT_FOUND, 404)
    key = "too_many_attempts" if unavailable.code == sessions.TOO_MANY_ATTEMPTS_CODE else unavailable.status
    return _message(w.DONE_HEADING if key == "completed" else w.ENDED_HEADING,
                    w.ENDED.get(key or "", w.ENDED["failed"]), 410)


def _principal_for(platform: Platform, row: VerificationSession) -> Principal:
    """The platform, as its API key would present it: the page registers on its behalf."""
    return Principal(key_id=f"page:{row.id}", platform_id=platform.id, scopes=frozenset({"registrations:write"}),
                     policy=policy_of(platform), sandbox=platform.sandbox)


def _registration_request(form: VerificationForm, platform: Platform, row: VerificationSession,
                          now: datetime) -> RegistrationRequest:
    policy = policy_of(platform)
    id_type = form.text("id_type")
    phone = form.text("phone") if policy.phone != "forbidden" else ""
    assert policy.notice_version is not None  # a session is only created under a policy that names one
    return RegistrationRequest(
        real_name=form.real_name.data or "", id_type=id_type, id_number=form.text("id_number"),
        # Asked only for passports; a country left selected under another type is not sent.
        issuing_country=(form.text("issuing_country") or None) if id_type == PASSPORT else None,
        phone=phone or None, external_ref=row.external_ref, notice_version=policy.notice_version,
        accepted_at=now, guardian_consent=bool(form.guardian_consent.data))


def _field_errors(api_errors: Mapping[str, Sequence[str]], form: VerificationForm) -> dict[str, list[LazyString]]:
    """The registration's refusals, each next to the page's field, in the person's words."""
    errors: dict[str, list[LazyString]] = {}
    for path, messages in api_errors.items():
        field = w.API_FIELDS.get(path, w.NAME)
        for message in messages:
            if field in w.EMPTY and (message == w.m.REQUIRED or not form.text(field)):  # left empty
                page_message = w.EMPTY[field]
            else:
                page_message = w.FIELD_MESSAGES.get(message, w.FIELD_MESSAGES[w.m.REQUIRED])
            if page_message not in errors.setdefault(field, []):
                errors[field].append(page_message)
    return errors


def _refused_submission(session_id: str, platform: Platform, form: VerificationForm,
                        errors: dict[str, list[LazyString]], code: str, now: datetime) -> Response:
    """Counted in a transaction of its own (whatever the registration wrote is rolled back); the
    fifth ends the session and the link."""
    db.session.rollback()
    row = sessions.lock(db.session(), session_id)
    ended = sessions.record_refused_submission(db.session(), row, code, now)
    db.session.commit()
    if ended:
        return _message(w.ENDED_HEADING, w.ENDED["too_many_attempts"], 410)
    return _form_page(row, platform, form, errors, 422)


def _ended(session_id: str, now: datetime, code: str, message: LazyString, pseudonyms: Sequence[str]) -> Response:
    """Registration ended without a new account: the session fails with `code` (and the person's
    existing account here, if any); the person reads why and may go back to the platform."""
    db.session.rollback()
    row = sessions.lock(db.session(), session_id)
    sessions.fail(db.session(), row, code, pseudonyms[0] if pseudonyms else None, now)
    db.session.commit()
    return _message(w.NOT_REGISTERED_HEADING, message, 200, back=_back_to_platform(row))


def _message(heading: LazyString, message: LazyString, status: int, *, back: str | None = None) -> Response:
    return make_response(render_template("message.html", heading=heading, message=message, back=back), status)


def _back_to_platform(row: VerificationSession) -> str:
    """`return_url?session=vs_…&state=…`: no pseudonym, nothing about the person."""
    query = urlencode({"session": row.id, **({"state": row.state} if row.state is not None else {})})
    return f"{row.return_url}{'&' if urlsplit(row.return_url).query else '?'}{query}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _form_page(row: VerificationSession, platform: Platform, form: VerificationForm,
               errors: dict[str, list[LazyString]], status: int, *, notice: LazyString | None = None) -> Response:
    ordered = {field: errors[field] for field in w.FIELD_ORDER if field in errors}
    policy = policy_of(platform)
    html = render_template(
        "form.html", form=form, errors=ordered, first_error=next(iter(ordered), None), notice=notice,
        platform_name=platform.name, policy=policy, document_types=DOCUMENT_TYPES,
        document_names=w.DOCUMENT_NAMES, action=request.path, csrf_token=generate_csrf(),
        country_options=_country_options(row.locale, form.text("issuing_country")))
    return make_response(html, status)


def _country_options(locale: str, selected: str) -> Markup:
    """The passport country list's <option>s, `selected` marked: ~250 of them, escaped once per
    language and process rather than on every render (it was half of the page's render time)."""
    codes, options = _escaped_countries(locale)
    chosen = codes.get(selected)
    if chosen is None:
        return Markup("".join(options))  # noqa: S704 - escaped when cached  # nosec B704
    marked = list(options)
    marked[chosen] = marked[chosen].replace("<option ", "<option selected ", 1)
    return Markup("".join(marked))  # noqa: S704 - escaped when cached  # nosec B704


@functools.lru_cache(maxsize=4)
def _escaped_countries(locale: str) -> tuple[dict[str, int], tuple[str, ...]]:
    """(alpha-3 code, name in the page's language), by name: what a passport's issuing country is."""
    territories = Locale.parse("zh_Hans_CN" if locale == "zh-CN" else "en").territories
    names = sorted(((c.alpha_3, territories.get(c.alpha_2, c.name)) for c in pycountry.countries),
                   key=lambda pair: pair[1])
    options = tuple(f'<option value="{escape(code)}">{escape(name)}</option>' for code, name in names)
    return {code: index for index, (code, _name) in enumerate(names)}, options


@blp.context_processor
def _page_language() -> dict[str, str]:
    return {"page_lang": g.get("page_locale", sessions.DEFAULT_LOCALE)}
