"""Verification sessions: the person registers on the service's own page.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "verification_sessions",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("platform_id", sa.String(length=30), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("return_url", sa.String(length=2000), nullable=False),
        sa.Column("external_ref", sa.String(length=128), nullable=True),
        sa.Column("state", sa.String(length=128), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refused_submissions", sa.Integer(), nullable=False),
        sa.Column("last_error_code", sa.String(length=40), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_verification_sessions_account_id_accounts")),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"],
                                name=op.f("fk_verification_sessions_platform_id_platforms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_sessions")),
    )
    with op.batch_alter_table("verification_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_sessions_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index("ix_verification_sessions_status_updated", ["status", "updated_at"], unique=False)


def downgrade():
    op.drop_table("verification_sessions")
