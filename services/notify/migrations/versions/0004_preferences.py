"""Professionals' choice of a daily digest; beneficiaries' chosen channels on the appointments to remind.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_preference',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('updated_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_notification_preference'))
    )
    with op.batch_alter_table('notification_preference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_preference_email'), ['email'], unique=False)

    with op.batch_alter_table('appointment_copy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('beneficiary_channels', sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column('contact_at', servicekit.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('appointment_copy', schema=None) as batch_op:
        batch_op.drop_column('contact_at')
        batch_op.drop_column('beneficiary_channels')
    op.drop_table('notification_preference')
