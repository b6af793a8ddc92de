"""Reserved for the notebook page's speed (issue 19): empty until it is filled in.

Revision ID: 0022
Revises: 0021
"""
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
