"""The beneficiary's rights requests (issue 21): a rectification or an objection, its due date (one month), its
answer; reminded once a day when due soon (``reminded_on``).

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rights_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), sa.ForeignKey("notebook.id"), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("wanted", sa.Text(), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.Uuid(), nullable=True),
        sa.Column("answered_by_name", sa.String(length=250), nullable=False),
        sa.Column("answered_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rights_request_notebook", "rights_request", ["notebook_id"])
    op.create_index("ix_rights_request_open_due", "rights_request", ["state", "due_on"])


def downgrade() -> None:
    op.drop_index("ix_rights_request_open_due", table_name="rights_request")
    op.drop_index("ix_rights_request_notebook", table_name="rights_request")
    op.drop_table("rights_request")
