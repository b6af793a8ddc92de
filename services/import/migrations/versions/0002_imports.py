"""Imports and their rows.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=True),
        sa.Column("structure_id", sa.Uuid(), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("actor", sa.JSON(), nullable=False),
        sa.Column("created_by_name", sa.String(length=250), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_per_s", sa.Float(), nullable=True),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.Integer(), nullable=False),
        sa.Column("review_new", sa.Integer(), nullable=False),
        sa.Column("review_same", sa.Integer(), nullable=False),
        sa.Column("review_conflict", sa.Integer(), nullable=False),
        sa.Column("review_invalid", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("apply_started_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("lease_until", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index("ix_imports_deployment_created", "imports", ["deployment_id", "created_at"])
    op.create_index("ix_imports_fingerprint", "imports", ["deployment_id", "kind", "fingerprint"])
    op.create_index("ix_imports_state", "imports", ["state"])
    op.create_table(
        "import_rows",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=True),
        sa.Column("match", sa.JSON(), nullable=True),
        sa.Column("messages", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "row", name=op.f("pk_import_rows")),
    )
    op.create_index("ix_import_rows_import_status", "import_rows", ["import_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_import_rows_import_status", table_name="import_rows")
    op.drop_table("import_rows")
    op.drop_index("ix_imports_state", table_name="imports")
    op.drop_index("ix_imports_fingerprint", table_name="imports")
    op.drop_index("ix_imports_deployment_created", table_name="imports")
    op.drop_table("imports")
