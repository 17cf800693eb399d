"""HTTP only: blueprints, request conventions, errors. The domain work is in identity.services."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_smorest import Api

from identity.api import accounts, groups, health, registrations, sanctions, tokens
from identity.api.problems import problem, register_error_handlers
from identity.api.schemas import ProblemSchema
from identity.api.transactions import init_transactions
from identity.errors import ValidationFailed
from identity.extensions import UNLIMITED_BLUEPRINTS
from identity.metrics import init_metrics
from identity.schema_state import schema_is_current

BODY_METHODS = ("POST", "PUT", "PATCH")
# Routes that also take application/x-www-form-urlencoded, as RFC 7662 and RFC 7009 specify.
FORM_ENDPOINTS: set[str] = {*tokens.FORM_ENDPOINTS}


class IdentityApi(Api):
    """flask-smorest's Api, with our problem+json errors instead of its own JSON errors, also in
    the OpenAPI document's default error response."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        pass


def init_api(app: Flask) -> Api:
    api = IdentityApi(app, spec_kwargs={"info": {"description": (
        "Real names in the back end, pseudonyms in the front end. Platforms register people "
        "under verified real names and receive only a per-platform pseudonym.")}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                       "description": "An API key issued by an operator"})
    for blueprint in (registrations.blp, accounts.blp, tokens.blp, tokens.jwks_blp, sanctions.blp, groups.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    app.extensions["identity_api"] = api
    register_error_handlers(app)
    init_transactions(app)
    init_metrics(app)

    @app.before_request
    def _guard() -> Response | None:
        req = request._get_current_object()  # type: ignore[attr-defined]  # one context lookup, not eight
        if req.blueprint in UNLIMITED_BLUEPRINTS or req.endpoint is None:
            return None
        if not schema_is_current(app):
            return problem(503, "service_unavailable", "Service unavailable",
                           "The database schema is behind this version of the service; "
                           "run `identity-admin db upgrade`.")
        if req.method in BODY_METHODS and req.content_length != 0 and req.get_data(cache=True):
            if req.endpoint in FORM_ENDPOINTS and req.mimetype == "application/x-www-form-urlencoded":
                return None
            if req.mimetype != "application/json":
                return problem(415, "unsupported_media_type", "Unsupported media type",
                               "Requests with a body must be Content-Type: application/json.")
            if not isinstance(req.get_json(silent=True), dict):
                raise ValidationFailed({"body": ["The body must be a JSON object."]})
        return None

    return api

