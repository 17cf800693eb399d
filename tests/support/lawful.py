"""Helpers for the operator commands of lawful disclosure, holds and the audit log."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from nacl.public import PrivateKey
from sqlalchemy import select

from identity.models import AuditEvent


def admin(runner: FlaskCliRunner, *args: str, operator: str | None = None) -> Result:
    extra = ["--operator", operator] if operator else []
    return runner.invoke(args=["admin", *args, *extra])


def ok(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def authority_key(tmp_path: Path) -> tuple[PrivateKey, Path]:
    """An authority's X25519 key pair; the public half in a file, base64, as the CLI takes it."""
    private = PrivateKey.generate()
    path = tmp_path / "authority.pub"
    path.write_text(base64.b64encode(bytes(private.public_key)).decode() + "\n")
    return private, path


def request(runner: FlaskCliRunner, platform: str, pseudonym: str, *, operator: str = "alice",
            authority: str = "Public Security Bureau, Haidian", legal_basis: str = "Cybersecurity Law art. 28",
            case_ref: str = "HD-2026-0042") -> str:
    created = ok(admin(runner, "disclosures", "request", "--platform", platform, "--pseudonym", pseudonym,
                       "--authority", authority, "--case-ref", case_ref, "--legal-basis", legal_basis, "--json",
                       operator=operator))
    assert created["status"] == "pending"
    return str(created["id"])


def audit_events(app: Flask) -> list[AuditEvent]:
    from identity.extensions import db

    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        db.session.expunge_all()
        return rows


def audit_text(app: Flask) -> str:
    """Everything the audit log says, as one string to search."""
    return "\n".join(f"{e.actor} {e.action} {e.subject} {e.details}" for e in audit_events(app))
