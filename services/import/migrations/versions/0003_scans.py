"""Scans of uploaded files by the antivirus (issue 21): one row per file scanned, the infected ones with the
signature found.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_scans",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("scanned_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_upload_scans")),
    )
    op.create_index("ix_upload_scans_verdict", "upload_scans", ["verdict", "scanned_at"])


def downgrade() -> None:
    op.drop_index("ix_upload_scans_verdict", table_name="upload_scans")
    op.drop_table("upload_scans")
