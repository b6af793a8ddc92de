"""Bilans d'accompagnement: at a date, the progress of the objectives and actions since the previous bilan, with the
professional's assessment and next steps.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bilan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), sa.ForeignKey("notebook.id"), nullable=False),
        sa.Column("bilan_date", sa.Date(), nullable=False),
        sa.Column("previous_date", sa.Date(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sa.String(length=250), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_bilan_notebook_date", "bilan", ["notebook_id", "bilan_date"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_bilan_notebook_date", table_name="bilan")
    op.drop_table("bilan")
