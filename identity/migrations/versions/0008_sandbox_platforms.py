"""Sandbox platforms: a platform is a sandbox (published test identities only) or not, for life.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every platform onboarded before this revision is a normal one.
    with op.batch_alter_table("platforms") as batch:
        batch.add_column(sa.Column("sandbox", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("platforms") as batch:
        batch.drop_column("sandbox")
