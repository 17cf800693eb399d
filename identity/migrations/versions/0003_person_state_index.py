"""Index persons.state, so purging ended sanction traces does not scan every person.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_state"), ["state"], unique=False)


def downgrade():
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_state"))
