"""Contracts: the CER prepared in the tool (draft → submitted → validated → signed → ended or renewed) with every
version kept, the PPAE, CEJ and PACEA recorded with their dates, and the territories' names (the PDF's header).

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

IN_PROGRESS = "kind = 'cer' AND status IN ('draft', 'submitted', 'validated')"


def upgrade() -> None:
    op.create_table(
        "contract",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), sa.ForeignKey("notebook.id"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_by_name", sa.String(length=250), nullable=False),
        sa.Column("submitted_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=250), nullable=False),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.Column("return_reason", sa.Text(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signed_in_person", sa.Boolean(), nullable=False),
        sa.Column("signature_recorded_by_name", sa.String(length=250), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=False),
        sa.Column("renewed_from_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contract_notebook_id", "contract", ["notebook_id"])
    op.create_index("uq_contract_cer_in_progress", "contract", ["notebook_id"], unique=True,
                    sqlite_where=sa.text(IN_PROGRESS), postgresql_where=sa.text(IN_PROGRESS))
    op.create_table(
        "contract_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contract_id", sa.Uuid(), sa.ForeignKey("contract.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(length=250), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_contract_version", "contract_version", ["contract_id", "version"], unique=True)
    op.create_table(
        "territory",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("department_code", sa.String(length=3), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("territory")
    op.drop_index("uq_contract_version", table_name="contract_version")
    op.drop_table("contract_version")
    op.drop_index("uq_contract_cer_in_progress", table_name="contract")
    op.drop_index("ix_contract_notebook_id", table_name="contract")
    op.drop_table("contract")
