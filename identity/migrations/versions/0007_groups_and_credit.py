"""Groups, their managers, credit penalties, and the group a sanction was filed for.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=30), nullable=False),
        sa.Column("platform_id", sa.String(length=30), nullable=False),
        sa.Column("founder_account_id", sa.Integer(), nullable=False),
        sa.Column("founder_person_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_ref", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closure_reason_code", sa.String(length=40), nullable=True),
        sa.Column("closure_evidence_ref", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["founder_account_id"], ["accounts.id"],
                                name=op.f("fk_groups_founder_account_id_accounts")),
        sa.ForeignKeyConstraint(["founder_person_id"], ["persons.id"],
                                name=op.f("fk_groups_founder_person_id_persons")),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"], name=op.f("fk_groups_platform_id_platforms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_groups_founder_account_id"), ["founder_account_id"], unique=False)
        batch_op.create_index("ix_groups_platform_founder_person", ["platform_id", "founder_person_id", "status"],
                              unique=False)

    op.create_table(
        "group_managers",
        sa.Column("group_id", sa.String(length=30), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_group_managers_account_id_accounts")),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_group_managers_group_id_groups")),
        sa.PrimaryKeyConstraint("group_id", "account_id", name=op.f("pk_group_managers")),
    )

    op.create_table(
        "credit_penalties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.String(length=30), nullable=False),
        sa.Column("group_id", sa.String(length=30), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_credit_penalties_group_id_groups")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_credit_penalties_person_id_persons")),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"],
                                name=op.f("fk_credit_penalties_platform_id_platforms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_penalties")),
    )
    with op.batch_alter_table("credit_penalties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_penalties_group_id"), ["group_id"], unique=False)
        batch_op.create_index("ix_credit_penalties_person_platform", ["person_id", "platform_id"], unique=False)

    with op.batch_alter_table("sanctions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_id", sa.String(length=30), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_sanctions_group_id_groups"), "groups", ["group_id"], ["id"])


def downgrade():
    with op.batch_alter_table("sanctions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sanctions_group_id_groups"), type_="foreignkey")
        batch_op.drop_column("group_id")
    with op.batch_alter_table("credit_penalties", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_penalties_person_platform")
        batch_op.drop_index(batch_op.f("ix_credit_penalties_group_id"))
    op.drop_table("credit_penalties")
    op.drop_table("group_managers")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_index("ix_groups_platform_founder_person")
        batch_op.drop_index(batch_op.f("ix_groups_founder_account_id"))
    op.drop_table("groups")
