"""HTTP only: blueprints, request conventions, errors. The domain work is in identity.services."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_smorest import Api

from identity.api import (
    accounts,
    docs,
    groups,
    health,
    registrations,
    sanctions,
    sandbox,
    tokens,
    verification_sessions,
    webhooks,
)
from identity.api.auth import client_address, rate_limits
from identity.api.bodies import parse_json_body
from identity.api.openapi import BEARER_SCHEME, ProblemContentPlugin, scopes_named
from identity.api.problems import problem, register_error_handlers, service_unavailable
from identity.api.schemas import ProblemSchema
from identity.api.transactions import init_transactions
from identity.errors import RateLimited, ValidationFailed
from identity.extensions import UNLIMITED_BLUEPRINTS
from identity.metrics import init_metrics
from identity.schema_state import schema_is_current
from identity.services.platforms import SCOPES

BODY_METHODS = ("POST", "PUT", "PATCH")
# A schema behind waits for an operator's `db upgrade`: retrying sooner is wasted.
SCHEMA_RETRY_AFTER_SECONDS = 30
# Routes that also take application/x-www-form-urlencoded, as RFC 7662 and RFC 7009 specify.
# The verification page's form (identity.web) posts a browser's form too.
FORM_ENDPOINTS: set[str] = {*tokens.FORM_ENDPOINTS, "verification-page.submit"}


class IdentityApi(Api):
    """flask-smorest's Api, with our problem+json errors instead of its own JSON errors, also in
    the OpenAPI document's default error response."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        pass


def init_api(app: Flask) -> Api:
    api = IdentityApi(app, spec_kwargs={"info": {"description": (
        "Real names in the back end, pseudonyms in the front end. Platforms register people "
        "under verified real names and receive only a per-platform pseudonym.")},
        "extra_plugins": [ProblemContentPlugin(app.view_functions)]})
    api.spec.components.security_scheme(BEARER_SCHEME, {"type": "http", "scheme": "bearer",
                                                         "description": scopes_named(SCOPES)})
    for blueprint in (registrations.blp, accounts.blp, tokens.blp, tokens.jwks_blp, sanctions.blp, groups.blp,
                      sandbox.blp, verification_sessions.blp, webhooks.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    app.register_blueprint(docs.blp)
    health.document(api.spec, app)
    app.extensions["identity"].api = api
    register_error_handlers(app)
    init_transactions(app)
    init_metrics(app)

    @app.before_request
    def _guard() -> Response | None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one context lookup, not eight
        if req.blueprint in UNLIMITED_BLUEPRINTS or req.endpoint is None:
            return None
        if not schema_is_current(app):
            return service_unavailable("The database schema is behind this version of the service; "
                                       "run `identity-admin db upgrade`.", SCHEMA_RETRY_AFTER_SECONDS)
        if not getattr(app.view_functions[req.endpoint], "_identity_authenticated", False):
            # Routes without an API key count per address; the others per verified key, in require_scope.
            retry_after = rate_limits().hit_caller(f"ip:{client_address()}")
            if retry_after is not None:
                raise RateLimited(retry_after=retry_after)
        if req.method in BODY_METHODS and req.content_length != 0 and req.get_data(cache=True):
            if req.endpoint in FORM_ENDPOINTS and req.mimetype == "application/x-www-form-urlencoded":
                return None
            if req.mimetype != "application/json":
                return problem(415, "unsupported_media_type", "Unsupported media type",
                               "Requests with a body must be Content-Type: application/json.")
            body = parse_json_body(req.get_data(cache=True))
            if not isinstance(body, dict):
                raise ValidationFailed({"body": ["The body must be a JSON object."]})
            req._cached_json = (body, body)  # what request.get_json() returns from here on: one parse
        return None

    @app.after_request
    def _no_store(response: Response) -> Response:
        # API answers name accounts, people's pseudonyms and tokens: no shared or browser cache
        # keeps them. A route that may be cached (the JWKS) sets its own Cache-Control.
        # getlist, not `in`: werkzeug's `in` raises and catches an exception when the header is
        # absent, which is nearly always here.
        if not response.headers.getlist("Cache-Control"):
            response.headers["Cache-Control"] = "no-store"
        return response

    return api

