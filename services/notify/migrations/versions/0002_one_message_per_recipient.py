"""One event may notify several recipients (every manager of a territory): the unique key includes the recipient.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outgoing_message") as batch_op:
        batch_op.drop_index("uq_outgoing_message_source")
        batch_op.create_index("uq_outgoing_message_source_recipient", ["source_event_id", "template", "recipient"],
                              unique=True)


def downgrade() -> None:
    with op.batch_alter_table("outgoing_message") as batch_op:
        batch_op.drop_index("uq_outgoing_message_source_recipient")
        batch_op.create_index("uq_outgoing_message_source", ["source_event_id", "template"], unique=True)
