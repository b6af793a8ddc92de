"""Accounts remember when their profile's last applied state was emitted, so late events cannot undo newer ones.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch_op:
        batch_op.add_column(sa.Column("profile_synced_at", servicekit.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_column("profile_synced_at")
