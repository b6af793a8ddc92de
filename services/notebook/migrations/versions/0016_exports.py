"""Exports of the lists (issue 18): one row per export asked, its progress and its file in the object store.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
import servicekit.db
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=True),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("requested_by_name", sa.String(length=250), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("structure_ids", sa.JSON(), nullable=False),
        sa.Column("list_name", sa.String(length=30), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(length=250), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("object_name", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("requested_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_export_job_deployment_id", "export_job", ["deployment_id"])
    op.create_index("ix_export_job_requested_by", "export_job", ["requested_by"])
    op.create_index("ix_export_job_deployment_requested", "export_job", ["deployment_id", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_export_job_deployment_requested", table_name="export_job")
    op.drop_index("ix_export_job_requested_by", table_name="export_job")
    op.drop_index("ix_export_job_deployment_id", table_name="export_job")
    op.drop_table("export_job")
