"""Partners' API credentials (secret hashed with scrypt, territories) and the log of their calls.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_credential",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner", sa.String(40), nullable=False),
        sa.Column("client_id", sa.String(80), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("deployment_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("rotated_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", servicekit.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_credential")),
        sa.UniqueConstraint("client_id", name=op.f("uq_partner_credential_client_id")),
    )
    op.create_index(op.f("ix_partner_credential_partner"), "partner_credential", ["partner"])
    op.create_table(
        "partner_call",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("credential_id", sa.Uuid(), nullable=True),
        sa.Column("partner", sa.String(40), nullable=False),
        sa.Column("client_id", sa.String(80), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=True),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("at", servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_call")),
    )
    op.create_index(op.f("ix_partner_call_at"), "partner_call", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_partner_call_at"), table_name="partner_call")
    op.drop_table("partner_call")
    op.drop_index(op.f("ix_partner_credential_partner"), table_name="partner_credential")
    op.drop_table("partner_credential")
