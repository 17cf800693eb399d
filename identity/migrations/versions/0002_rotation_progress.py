"""rotation progress: keyset cursor, total and failures on rotation_jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rotation_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cursor', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('total', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('failed', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('rotation_jobs', schema=None) as batch_op:
        batch_op.drop_column('failed')
        batch_op.drop_column('total')
        batch_op.drop_column('cursor')
