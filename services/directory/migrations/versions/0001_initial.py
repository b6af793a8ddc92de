"""Outbox and inbox (business tables come with their features).

Revision ID: 0001
Revises:
"""
from alembic import op

from servicekit.messaging import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only servicekit's tables: business tables arrive in later revisions, written out as op.* calls.
    create_messaging_tables(op.get_bind())


def downgrade() -> None:
    drop_messaging_tables(op.get_bind())
