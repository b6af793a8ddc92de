"""France Travail's flux: the beneficiary's "identifiant_unique_de", by which the "actions" file names them.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN, not a batch: on SQLite a batch would rebuild ``beneficiary`` and lose its FTS triggers.
    op.add_column("beneficiary", sa.Column("pe_unique_import_id", sa.String(length=64), nullable=True))
    op.create_index("ix_beneficiary_pe_unique_import_id", "beneficiary", ["deployment_id", "pe_unique_import_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_beneficiary_pe_unique_import_id", table_name="beneficiary")
    op.drop_column("beneficiary", "pe_unique_import_id")
