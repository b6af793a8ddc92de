"""The dashboards' delays as plain integers on the read model (issue 18 item 5): whole days from a notebook's entry
to its first orientation and to its first CER, written by the read model's refresh, so that the delay figures group
an indexed column instead of computing a date difference on every row of the period. Existing rows are filled here.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

DELAYS_COLUMNS = ["deployment_id", "created_at", "structure_id", "origin", "orientation_days", "cer_days"]


def days(later: str, dialect: str) -> str:
    # Whole days, rounded down, as handlers.pilotage_facts.days_from computes them for the rows it writes.
    if dialect == "sqlite":  # no floor() in every SQLite: a cast (towards zero), less one below zero
        diff = f"(julianday({later}) - julianday(created_at) + 1e-9)"  # 1e-9: julianday's rounding, 86 µs
        return f"(CAST({diff} AS INTEGER) - ({diff} < CAST({diff} AS INTEGER)))"
    return f"CAST(floor(extract(epoch from {later} - created_at) / 86400) AS INTEGER)"


def upgrade() -> None:
    with op.batch_alter_table("pilotage_notebook") as batch:
        batch.add_column(sa.Column("orientation_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cer_days", sa.Integer(), nullable=True))
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE pilotage_notebook SET orientation_days = {days('first_oriented_at', dialect)}, "
               f"cer_days = {days('first_cer_at', dialect)}")
    # The period's delays seek the creation range and group these columns from the index alone.
    op.create_index("ix_pilotage_notebook_delays", "pilotage_notebook", DELAYS_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_pilotage_notebook_delays", table_name="pilotage_notebook")
    with op.batch_alter_table("pilotage_notebook") as batch:
        batch.drop_column("cer_days")
        batch.drop_column("orientation_days")
