"""Retention (issue 21): the profiles whose notebook was purged — ids only — so that a late profile event does not
open their account again.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purged_profile",
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("purged_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("profile_id"),
    )


def downgrade() -> None:
    op.drop_table("purged_profile")
