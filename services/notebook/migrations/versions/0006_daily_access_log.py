"""The access log keeps one line per account, notebook and day (first and last view, how many), not one per view.

Existing lines are merged by their UTC day: the first view keeps its time, the last and the count are added.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SAME_LINE = ("v2.notebook_id = notebook_visit.notebook_id AND v2.account_id = notebook_visit.account_id "
             "AND v2.day = notebook_visit.day")


def upgrade() -> None:
    with op.batch_alter_table("notebook_visit") as batch_op:
        batch_op.add_column(sa.Column("day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("last_visited_at", servicekit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("views", sa.Integer(), nullable=False, server_default="1"))
    day = "date(visited_at)" if op.get_bind().dialect.name == "sqlite" else "CAST(visited_at AS date)"
    op.execute(f"UPDATE notebook_visit SET day = {day}")
    op.execute(f"UPDATE notebook_visit SET views = (SELECT count(*) FROM notebook_visit v2 WHERE {SAME_LINE}), "
               f"last_visited_at = (SELECT max(v2.visited_at) FROM notebook_visit v2 WHERE {SAME_LINE})")
    op.execute(f"DELETE FROM notebook_visit WHERE EXISTS (SELECT 1 FROM notebook_visit v2 WHERE {SAME_LINE} AND "
               "(v2.visited_at < notebook_visit.visited_at OR "
               "(v2.visited_at = notebook_visit.visited_at AND v2.id < notebook_visit.id)))")
    with op.batch_alter_table("notebook_visit") as batch_op:
        batch_op.alter_column("day", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("last_visited_at", existing_type=servicekit.db.UtcDateTime(timezone=True), nullable=False)
        batch_op.create_index("uq_visit_notebook_account_day", ["notebook_id", "account_id", "day"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("notebook_visit") as batch_op:
        batch_op.drop_index("uq_visit_notebook_account_day")
        batch_op.drop_column("views")
        batch_op.drop_column("last_visited_at")
        batch_op.drop_column("day")
