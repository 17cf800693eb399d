"""The verification page: a person registers on the service's own page (docs/verification-page.md).

Server-rendered (Jinja2), one stylesheet, no JavaScript, nothing from another origin; Chinese
(default) or English by the session's locale, from Babel catalogues in translations/.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from typing import Any

from flask import Flask, Request, g
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel, Domain
from itsdangerous import URLSafeTimedSerializer

from identity.process_state import Runtime

# Babel's names for the session's locales; the templates' `lang` attribute keeps the BCP 47 spelling.
BABEL_LOCALES = {"zh-CN": "zh_Hans_CN", "en": "en"}


def _page_locale() -> str:
    return BABEL_LOCALES.get(g.get("page_locale", "zh-CN"), "zh_Hans_CN")


def cookie_signing_key(runtime: Runtime) -> bytes:
    """The CSRF token's cookie is signed with a key derived from the current root key: the same in
    every worker and host (a form served by one is accepted by another), never stored, and changed
    by `keys rotate root` (a form open across that rotation is asked again, nothing worse)."""
    return hmac.new(runtime.root_keys.current, b"identity web: verification page cookie v1",
                    hashlib.sha256).digest()


class PageOnlySessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened only under the page's path. The page's CSRF token is
    its only use; with a SECRET_KEY set, Flask would otherwise build a signing serializer and read
    a cookie on every API request (about 0.1 M instructions each, bench/README.md)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._serializer: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] = ((), None)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's own serializer, built once per set of keys rather than twice a request (to open
        the cookie and again to save it; each build also test-serialises `{}`)."""
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        if keys != self._serializer[0]:
            self._serializer = (keys, super().get_signing_serializer(app))
        return self._serializer[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(self.prefix):
            return None  # Flask puts a null session in its place, and never saves it
        return super().open_session(app, request)


class _Babel(Babel):
    """Flask-Babel 4.0.0 builds a new Domain, and so parses the catalogue again, on every request
    (`domain_instance` is a plain property); one Domain keeps the parsed catalogues per locale."""

    @functools.cached_property
    def domain_instance(self) -> Domain:
        return Domain(domain=self.domain)


def init_web(app: Flask) -> None:
    from identity.web import views

    secure = app.extensions["identity"].settings.issuer.startswith("https:")
    app.config.update(
        SECRET_KEY=cookie_signing_key(app.extensions["identity"]),
        # The cookie holds only the CSRF token's random half; it goes nowhere but the page.
        SESSION_COOKIE_NAME="identity_page", SESSION_COOKIE_PATH=views.PAGE_PREFIX,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_TIME_LIMIT=3600,
        # WTForms' own messages are never shown (the page has its own): no catalogue loaded per request.
        WTF_I18N_ENABLED=False,
    )
    _Babel(app, locale_selector=_page_locale, default_domain="messages",
          default_translation_directories="web/translations")
    app.session_interface = PageOnlySessions(views.PAGE_PREFIX)
    app.register_blueprint(views.blp)
