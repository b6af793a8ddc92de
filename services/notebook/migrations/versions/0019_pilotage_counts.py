"""The dashboards' counts (issue 18 item 5): per territory, the current state's cells, the référents' loads, the
dated facts (CER ending, reorientation requests) by day, and the period's figures (arrivals, delays, actions) by
month of creation — kept by every write of the read model's rows in the same transaction
(notebook.adapters.pilotage_counts), so that a territory's dashboard sums small rows instead of grouping its
100,000 notebooks. Existing rows are counted here.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pilotage_count_state",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("support", sa.String(length=20), nullable=False),
        sa.Column("subject_to_right_and_duty", sa.Boolean(), nullable=False),
        sa.Column("cer_state", sa.String(length=10), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "structure_id", "support", "subject_to_right_and_duty",
                                "cer_state"),
    )
    op.create_table(
        "pilotage_count_referent",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("referent_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "structure_id", "referent_id"),
    )
    op.create_table(
        "pilotage_count_day",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("figure", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "figure", "day", "structure_id"),
    )
    op.create_table(
        "pilotage_count_month",
        sa.Column("structure_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("figure", sa.String(length=12), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("structure_id", "deployment_id", "figure", "month", "value", "status"),
    )
    connection = op.get_bind()
    if connection.execute(sa.text("SELECT 1 FROM pilotage_notebook LIMIT 1")).first() is not None:
        # Counted by the service's own code (the Paris months and days of the instants need Python's zoneinfo,
        # which SQLite has not); a database upgraded later than this code changes is recounted by the rebuild.
        from notebook.adapters.pilotage_counts import recount

        recount(connection)


def downgrade() -> None:
    op.drop_table("pilotage_count_month")
    op.drop_table("pilotage_count_day")
    op.drop_table("pilotage_count_referent")
    op.drop_table("pilotage_count_state")
