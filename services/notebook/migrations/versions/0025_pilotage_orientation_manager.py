"""The beneficiaries' export names each one's chargé d'orientation (issue 20): the pilotage row keeps the active
one's id, like its référent's (the name is joined when read, so a renamed person shows at once). Filled here from
the active memberships; the refresh of each notebook keeps it up to date.

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pilotage_notebook") as batch:
        batch.add_column(sa.Column("orientation_manager_id", sa.Uuid(), nullable=True))
    op.execute("""
        UPDATE pilotage_notebook SET orientation_manager_id = (
            SELECT member.person_id FROM member
            WHERE member.notebook_id = pilotage_notebook.notebook_id
              AND member.member_type = 'orientation_manager' AND member.ended_at IS NULL
            ORDER BY member.started_at DESC LIMIT 1)
    """)


def downgrade() -> None:
    with op.batch_alter_table("pilotage_notebook") as batch:
        batch.drop_column("orientation_manager_id")
