"""Daily snapshots of the beneficiaries by support status (issue 18): the dashboards' history month by month, as
the read model only knows today.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pilotage_snapshot",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("support", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # One row per day, territory, structure and status: a second replica taking the same day's fails, harmlessly.
    op.create_index("uq_pilotage_snapshot", "pilotage_snapshot", ["deployment_id", "day", "structure_id", "support"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_pilotage_snapshot", table_name="pilotage_snapshot")
    op.drop_table("pilotage_snapshot")
