"""Flux of the partners: what they said about a beneficiary (external data), and the homelessness of the CAF/MSA flux.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "external_data",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), sa.ForeignKey("beneficiary.id"), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("data_encrypted", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_external_data_beneficiary_source", "external_data",
                    ["beneficiary_id", "source", "created_at"], unique=False)
    # ADD COLUMN, not a batch: on SQLite a batch would rebuild ``beneficiary`` and lose its FTS triggers.
    op.add_column("beneficiary", sa.Column("is_homeless", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("beneficiary", "is_homeless")
    op.drop_index("ix_external_data_beneficiary_source", table_name="external_data")
    op.drop_table("external_data")
