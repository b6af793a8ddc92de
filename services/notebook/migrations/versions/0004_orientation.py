"""Orientation decisions (reason, when, by whom) and reorientation requests.

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
    op.create_table('orientation_request',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by_name', sa.String(length=250), nullable=False),
    sa.Column('requested_orientation_system_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_at', servicekit.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_name', sa.String(length=250), nullable=False),
    sa.Column('decided_orientation_system_id', sa.Uuid(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['notebook_id'], ['notebook.id'], name=op.f('fk_orientation_request_notebook_id_notebook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orientation_request'))
    )
    with op.batch_alter_table('orientation_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orientation_request_notebook_id'), ['notebook_id'], unique=False)
        batch_op.create_index('uq_orientation_request_pending', ['notebook_id'], unique=True,
                              sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    with op.batch_alter_table('notebook', schema=None) as batch_op:
        batch_op.add_column(sa.Column('orientation_reason', sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column('oriented_at', servicekit.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('oriented_by_name', sa.String(length=250), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table('notebook', schema=None) as batch_op:
        batch_op.drop_column('oriented_by_name')
        batch_op.drop_column('oriented_at')
        batch_op.drop_column('orientation_reason')
    op.drop_table('orientation_request')
