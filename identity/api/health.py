"""Liveness, readiness and metrics. No authentication."""

from __future__ import annotations

from apispec import APISpec
from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from identity.api.problems import service_unavailable
from identity.extensions import db
from identity.metrics import KeyAgeCollector, metrics_response
from identity.models.keyring import KEY_PRIMARY, KeyVersion
from identity.schema_state import schema_is_current

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


# The checks in order; each needs the one before it, so the first failure is the one to fix.
READINESS_CHECKS = ("database", "schema", "keys")
_FIXES = {
    "database": "the database cannot be reached",
    "schema": "the database schema is behind; run `identity-admin db upgrade`",
    "keys": "the keyring does not open under the root key file (IDENTITY_ROOT_KEY_FILE)",
}


@blp.get("/readyz")
def readyz() -> Response:
    """200 when the database answers, its schema is current and the keys load; otherwise 503
    naming the first check that fails in `failed_check` (and in `checks`)."""
    checks = dict.fromkeys(READINESS_CHECKS, "not checked")
    for name in READINESS_CHECKS:
        try:
            passed = _CHECKS[name]()
        except Exception as error:  # readiness reports, it does not raise
            # By type only: the message of an unknown failure could carry anything.
            current_app.logger.warning("readiness check %s failed: %s", name, type(error).__name__)
            passed = False
        if not passed:
            checks[name] = "failed"
            return service_unavailable(f"Not ready: {name} check failed: {_FIXES[name]}.",
                                       checks=checks, failed_check=name)
        checks[name] = "ok"
    return jsonify(status="ready", checks=checks)


def _database_answers() -> bool:
    db.session.execute(text("SELECT 1"))
    return True


def _schema_current() -> bool:
    return schema_is_current(current_app)


def _keys_load() -> bool:
    from identity.api.request_scope import current_keyring

    current_keyring()
    return True


_CHECKS = {"database": _database_answers, "schema": _schema_current, "keys": _keys_load}


def document(spec: APISpec, app: Flask) -> None:
    """The probes are plain Flask routes (no body to parse), so their answers are written out here
    for the OpenAPI document."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    checks = {"type": "object", "properties": {name: {"type": "string", "enum": ["ok", "failed", "not checked"]}
                                                for name in READINESS_CHECKS}}
    checks["required"] = list(READINESS_CHECKS)
    spec.path(rule=rules["health.healthz"], operations={"get": {
        "tags": ["health"], "summary": "The process is alive (no database or key is checked)",
        "operationId": "checkLiveness",
        "responses": {"200": {"description": "Alive", "content": {"application/json": {"schema": {
            "type": "object", "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["ok"]}}}}}}}}})
    spec.path(rule=rules["health.readyz"], operations={"get": {
        "tags": ["health"], "summary": "Ready to serve: the database answers, its schema is current, the keys load",
        "operationId": "checkReadiness",
        "responses": {
            "200": {"description": "Ready", "content": {"application/json": {"schema": {
                "type": "object", "required": ["status", "checks"],
                "properties": {"status": {"type": "string", "enum": ["ready"]}, "checks": checks}}}}},
            "503": {
                "description": "Not ready. `failed_check` names the first check that fails: `database` (cannot "
                               "be reached), `schema` (behind: run `identity-admin db upgrade`) or `keys` (the "
                               "keyring does not open under the root key file); `checks` gives every check's state.",
                "headers": {"Retry-After": {"description": "Seconds to wait before asking again",
                                            "schema": {"type": "integer"}}},
                "content": {"application/problem+json": {"schema": {"allOf": [
                    {"$ref": "#/components/schemas/Problem"},
                    {"type": "object", "required": ["failed_check", "checks"], "properties": {
                        "failed_check": {"type": "string", "enum": list(READINESS_CHECKS)},
                        "checks": checks}}]}}}}}}})
    spec.tag({"name": "health", "description": "Probes for orchestrators; no authentication."})


@blp.get("/metrics")
def metrics() -> Response:
    return metrics_response(KeyAgeCollector(_primary_key_created))


def _primary_key_created() -> list[tuple[str, float]]:
    """(kind, created as a UNIX time) of each primary key; nothing when the database cannot say
    (down, or a schema not yet created): /metrics still answers, /readyz reports the cause."""
    try:
        rows = db.session.execute(select(KeyVersion.kind, func.max(KeyVersion.created_at))
                                  .where(KeyVersion.state == KEY_PRIMARY).group_by(KeyVersion.kind)).all()
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.warning("key age metric skipped: %s", type(error).__name__)
        return []
    return [(kind, created.timestamp()) for kind, created in rows if created is not None]

