"""Reserved for issue 21: the beneficiary's rights requests (filled in by that work; a no-op until then).

Revision ID: 0020
Revises: 0019
"""
from alembic import op  # noqa: F401

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
