"""Reserved for issue 21: retention (filled in by that work; a no-op until then).

Revision ID: 0004
Revises: 0003
"""
from alembic import op  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
