"""Liveness, readiness, metrics, and the human-readable API page. No authentication."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template
from sqlalchemy import text

from identity.api.problems import problem
from identity.extensions import db
from identity.metrics import metrics_response
from identity.schema_state import schema_is_current

blp = Blueprint("health", __name__, template_folder="templates")


@blp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> Response:
    checks: dict[str, Any] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["schema"] = "ok" if schema_is_current(current_app) else "behind"
        if checks["schema"] == "ok":
            from identity.api.context import current_keyring

            current_keyring()
            checks["keys"] = "ok"
    except Exception as error:  # readiness reports, it does not raise
        current_app.logger.warning("readiness check failed: %s", type(error).__name__)
        checks.setdefault("database", "unreachable")
    if all(checks.get(name) == "ok" for name in ("database", "schema", "keys")):
        return jsonify(status="ready", checks=checks)
    detail = "Not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok")
    if checks.get("schema") == "behind":
        detail += ". Run `identity-admin db upgrade`."
    response = problem(503, "service_unavailable", "Service unavailable", detail, extra={"checks": checks})
    return response


@blp.get("/metrics")
def metrics() -> Response:
    return metrics_response()


@blp.get("/docs")
def docs() -> str:
    spec = current_app.extensions["identity_api"].spec.to_dict()
    return render_template("docs.html", spec=spec)
