"""Outgoing messages, outbox and inbox.

Revision ID: 0001
Revises:
"""
from alembic import op

from notify.adapters.orm import metadata
from servicekit.messaging import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The first revision creates the tables as the models declare them; later ones use op.* deltas.
    metadata.create_all(op.get_bind())
    create_messaging_tables(op.get_bind())


def downgrade() -> None:
    drop_messaging_tables(op.get_bind())
    metadata.drop_all(op.get_bind())
