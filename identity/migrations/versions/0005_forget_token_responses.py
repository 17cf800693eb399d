"""Forget token answers remembered for Idempotency-Key replays, and expired records.

Token issue, introspection and revocation no longer honour `Idempotency-Key`: a token answer
is never replayed and no issued token is stored. Earlier versions remembered them, so an
issued token sat in clear in `idempotency_records` for a day; this deletes every such record,
recognised by its body's shape (an issued token; an introspection answer; revocation's `{}`),
and every expired record (nothing reads them, and they hold request fingerprints that were
an unkeyed hash of personal data).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INTROSPECTION_FIELDS = {"active", "sub", "aud", "exp", "iat", "jti", "rnv", "lvl", "adult", "scope"}
records = sa.table("idempotency_records", sa.column("id", sa.Integer), sa.column("body", sa.Text),
                   sa.column("expires_at", sa.DateTime))


def is_token_answer(body: str) -> bool:
    try:
        document = json.loads(body)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    issued = "token" in document and "token_type" in document
    introspected = "active" in document and set(document) <= INTROSPECTION_FIELDS
    return issued or introspected or document == {}


def upgrade():
    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC there (models.base.UTCDateTime)
    connection.execute(sa.delete(records).where(records.c.expires_at <= now))
    doomed = [row.id for row in connection.execute(sa.select(records.c.id, records.c.body))
              if is_token_answer(row.body)]
    for start in range(0, len(doomed), 500):
        connection.execute(sa.delete(records).where(records.c.id.in_(doomed[start:start + 500])))


def downgrade():
    pass  # what was deleted is gone for good, as it should be
