"""registration_mismatches: count unverifiable registrations per platform and document

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('registration_mismatches',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('platform_id', sa.String(length=30), nullable=False),
    sa.Column('document_ref', sa.LargeBinary(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_mismatches'))
    )
    with op.batch_alter_table('registration_mismatches', schema=None) as batch_op:
        batch_op.create_index('ix_registration_mismatches_platform_time', ['platform_id', 'occurred_at'],
                              unique=False)
        batch_op.create_index('ix_registration_mismatches_platform_document_time',
                              ['platform_id', 'document_ref', 'occurred_at'], unique=False)


def downgrade():
    with op.batch_alter_table('registration_mismatches', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_mismatches_platform_document_time')
        batch_op.drop_index('ix_registration_mismatches_platform_time')
    op.drop_table('registration_mismatches')
