"""Rows of file imports applied here, with their outcome: each (import, row) is applied once.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'import_applied',
        sa.Column('import_id', sa.Uuid(), nullable=False),
        sa.Column('row', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('target_id', sa.Uuid(), nullable=True),
        sa.Column('messages', sa.JSON(), nullable=False),
        sa.Column('applied_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('import_id', 'row', name=op.f('pk_import_applied')),
    )


def downgrade() -> None:
    op.drop_table('import_applied')
