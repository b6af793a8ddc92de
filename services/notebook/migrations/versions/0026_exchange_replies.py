"""The beneficiary answers a message shared with her (issue 20): her answer names the message it answers.

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_message") as batch:
        batch.add_column(sa.Column("reply_to", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exchange_message") as batch:
        batch.drop_column("reply_to")
