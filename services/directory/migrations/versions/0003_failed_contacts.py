"""People's addresses and numbers notify could not deliver to.

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
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_failed_at', servicekit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('phone_failed_at', servicekit.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('phone_failed_at')
        batch_op.drop_column('email_failed_at')
