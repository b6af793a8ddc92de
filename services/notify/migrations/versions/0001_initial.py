"""Outgoing messages, outbox and inbox.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db
from servicekit.messaging import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Written out, not created from the models: a revision must keep creating what it created the day it shipped.
    op.create_table('outgoing_message',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('source_event_id', sa.Uuid(), nullable=False),
    sa.Column('template', sa.String(length=60), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.Column('contains_secret', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_message'))
    )
    with op.batch_alter_table('outgoing_message', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_message_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outgoing_message_recipient', ['recipient'], unique=False)
        batch_op.create_index('uq_outgoing_message_source', ['source_event_id', 'template'], unique=True)
    create_messaging_tables(op.get_bind())


def downgrade() -> None:
    drop_messaging_tables(op.get_bind())
    with op.batch_alter_table('outgoing_message', schema=None) as batch_op:
        batch_op.drop_index('uq_outgoing_message_source')
        batch_op.drop_index('ix_outgoing_message_recipient')
        batch_op.drop_index('ix_outgoing_message_due')

    op.drop_table('outgoing_message')
