"""A message is claimed before it is sent (when: so that an interrupted send is recognised and never repeated);
appointments are kept for the reminder the day before.

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
    op.create_table(
        "appointment_copy",
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), nullable=False),
        sa.Column("at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("with_name", sa.String(length=250), nullable=False),
        sa.Column("structure_name", sa.String(length=250), nullable=False),
        sa.Column("beneficiary_phone", sa.String(length=40), nullable=False),
        sa.Column("beneficiary_email", sa.String(length=320), nullable=False),
        sa.Column("occurred_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_appointment_copy")),
    )
    with op.batch_alter_table("appointment_copy") as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_copy_at"), ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("appointment_copy")
    with op.batch_alter_table("outgoing_message") as batch_op:
        batch_op.drop_column("sending_since")
