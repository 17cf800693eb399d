"""Sandbox platforms: a platform is a sandbox (published test identities only) or not, for life.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops a column in place): a batch copy of
# `platforms` would have to drop the table every other table references.
def upgrade() -> None:
    # Every platform onboarded before this revision is a normal one.
    with op.batch_alter_table("platforms", recreate="never") as batch:
        batch.add_column(sa.Column("sandbox", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("platforms", recreate="never") as batch:
        batch.drop_column("sandbox")
