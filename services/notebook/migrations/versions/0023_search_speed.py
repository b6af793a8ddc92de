"""Reserved for the beneficiaries' search speed (issue 19): empty until it is filled in.

Revision ID: 0023
Revises: 0022
"""
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
