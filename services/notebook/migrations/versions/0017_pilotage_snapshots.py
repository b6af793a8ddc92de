"""Daily snapshots of the beneficiaries by support status (issue 18): the dashboards' history month by month, as
the read model only knows today; and the dashboards' covering index on the read model (its GROUP BY read the
index, a fraction of the rows with their names and themes).

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


DASHBOARD_COLUMNS = ["deployment_id", "structure_id", "referent_id", "support", "subject_to_right_and_duty",
                     "cer_state", "cer_end_date", "pending_reorientation_since", "created_at", "origin",
                     "first_oriented_at", "first_cer_at"]

COHORT_COLUMNS = ["deployment_id", "created_at", "structure_id", "origin", "first_oriented_at", "first_cer_at"]


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
    op.create_index("ix_pilotage_notebook_dashboard", "pilotage_notebook", DASHBOARD_COLUMNS)
    # The period's figures (created in the period) seek their range and read no row either.
    op.create_index("ix_pilotage_notebook_cohort", "pilotage_notebook", COHORT_COLUMNS)
    op.create_index("ix_pilotage_action_period", "pilotage_action",
                    ["deployment_id", "created_at", "structure_id", "theme", "status"])


def downgrade() -> None:
    op.drop_index("ix_pilotage_action_period", table_name="pilotage_action")
    op.drop_index("ix_pilotage_notebook_cohort", table_name="pilotage_notebook")
    op.drop_index("ix_pilotage_notebook_dashboard", table_name="pilotage_notebook")
    op.drop_index("uq_pilotage_snapshot", table_name="pilotage_snapshot")
    op.drop_table("pilotage_snapshot")
