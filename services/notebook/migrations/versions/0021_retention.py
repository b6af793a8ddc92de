"""Retention (issue 21): each territory's months without activity, the extensions its managers grant, and the record
of each notebook found due and purged (ids only).

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_policy",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("updated_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_name", sa.String(length=250), nullable=False),
        sa.PrimaryKeyConstraint("deployment_id"),
    )
    op.create_table(
        "retention_extension",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extended_by_id", sa.Uuid(), nullable=True),
        sa.Column("extended_by_name", sa.String(length=250), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_retention_extension_notebook_id", "retention_extension", ["notebook_id"])
    op.create_table(
        "retention_purge",
        sa.Column("notebook_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("due_since", sa.Date(), nullable=False),
        sa.Column("recorded_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("confirmed", sa.String(length=200), nullable=False),
        sa.Column("purged_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("notebook_id"),
    )
    op.create_index("ix_retention_purge_deployment", "retention_purge", ["deployment_id", "purged_at"])


def downgrade() -> None:
    op.drop_index("ix_retention_purge_deployment", table_name="retention_purge")
    op.drop_table("retention_purge")
    op.drop_index("ix_retention_extension_notebook_id", table_name="retention_extension")
    op.drop_table("retention_extension")
    op.drop_table("retention_policy")
