"""Another territory: a notebook's transfers (asked by the origin, accepted or refused by the destination; one
pending at a time) and its referrals (a professional of another territory in the group until a date).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

PENDING = "status = 'pending'"


def upgrade() -> None:
    op.create_table(
        "notebook_transfer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), sa.ForeignKey("notebook.id"), nullable=False),
        sa.Column("from_deployment_id", sa.Uuid(), nullable=False),
        sa.Column("to_deployment_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("requested_by_name", sa.String(length=250), nullable=False),
        sa.Column("decided_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_name", sa.String(length=250), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notebook_transfer_notebook_id", "notebook_transfer", ["notebook_id"])
    op.create_index("ix_notebook_transfer_from_deployment_id", "notebook_transfer", ["from_deployment_id"])
    op.create_index("ix_notebook_transfer_to_deployment_id", "notebook_transfer", ["to_deployment_id"])
    op.create_index("uq_notebook_transfer_pending", "notebook_transfer", ["notebook_id"], unique=True,
                    sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
    op.create_table(
        "notebook_referral",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), sa.ForeignKey("notebook.id"), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("person_name", sa.String(length=250), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("granted_by_id", sa.Uuid(), nullable=True),
        sa.Column("granted_by_name", sa.String(length=250), nullable=False),
        sa.Column("ended_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notebook_referral_notebook_id", "notebook_referral", ["notebook_id"])
    op.create_index("ix_notebook_referral_person_id", "notebook_referral", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_notebook_referral_person_id", table_name="notebook_referral")
    op.drop_index("ix_notebook_referral_notebook_id", table_name="notebook_referral")
    op.drop_table("notebook_referral")
    op.drop_index("uq_notebook_transfer_pending", table_name="notebook_transfer")
    op.drop_index("ix_notebook_transfer_to_deployment_id", table_name="notebook_transfer")
    op.drop_index("ix_notebook_transfer_from_deployment_id", table_name="notebook_transfer")
    op.drop_index("ix_notebook_transfer_notebook_id", table_name="notebook_transfer")
    op.drop_table("notebook_transfer")
