"""Reserved for issue 18: the dashboard's counts (filled in by that work; a no-op until then).

Revision ID: 0019
Revises: 0018
"""
from alembic import op  # noqa: F401

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
