"""France Travail's API: for each notebook, the last exchange (status, when) and who is asking now (a lease), so that
a dossier is asked at most once an hour whatever the number of replicas. The dossiers are ``external_data`` rows.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "france_travail_sync",
        sa.Column("notebook_id", sa.Uuid(), sa.ForeignKey("notebook.id"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("checked_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("received_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("notebook_id"),
    )


def downgrade() -> None:
    op.drop_table("france_travail_sync")
