"""The dashboards' « Imports et flux » (issue 18 item 3): every import and partner flux as it ended, kept from the
import service's ``import.job.completed.v1`` (handlers.pilotage_imports), counted per month and kind.

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pilotage_import",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=True),
        sa.Column("structure_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("finished_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("import_id"),
    )
    # The dashboards read a territory's (or a structure's) period, grouped by day and kind.
    op.create_index("ix_pilotage_import_period", "pilotage_import", ["deployment_id", "day", "structure_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_pilotage_import_period", table_name="pilotage_import")
    op.drop_table("pilotage_import")
