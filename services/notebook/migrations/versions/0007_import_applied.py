"""Imports: the rows applied (exactly once per import and row), and beneficiaries found by the SI's id.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_applied",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("applied_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "row"),
    )
    # A plain CREATE INDEX, not a batch: on SQLite a batch could rebuild ``beneficiary`` and lose its FTS triggers.
    op.create_index("ix_beneficiary_external_id", "beneficiary", ["deployment_id", "external_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_beneficiary_external_id", table_name="beneficiary")
    op.drop_table("import_applied")
