"""A message is claimed before it is sent: when, so that an interrupted send is recognised and never repeated.

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
    with op.batch_alter_table("outgoing_message") as batch_op:
        batch_op.add_column(sa.Column("sending_since", servicekit.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outgoing_message") as batch_op:
        batch_op.drop_column("sending_since")
