"""Exchanges between professionals: a thread per notebook (texts encrypted at rest, some shared with the
beneficiary, mentions of members) and how far each member read it (unread counts on the beneficiaries' list).

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), sa.ForeignKey("notebook.id"), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(length=250), nullable=False),
        sa.Column("author_structure", sa.String(length=300), nullable=False),
        sa.Column("text_encrypted", sa.Text(), nullable=False),
        sa.Column("shared_with_beneficiary", sa.Boolean(), nullable=False),
        sa.Column("addressed_to", sa.Uuid(), nullable=True),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_exchange_message_notebook", "exchange_message", ["notebook_id", "created_at"])
    op.create_table(
        "exchange_read",
        sa.Column("notebook_id", sa.Uuid(), sa.ForeignKey("notebook.id"), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("read_up_to", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notebook_id", "person_id"),
    )


def downgrade() -> None:
    op.drop_table("exchange_read")
    op.drop_index("ix_exchange_message_notebook", table_name="exchange_message")
    op.drop_table("exchange_message")
