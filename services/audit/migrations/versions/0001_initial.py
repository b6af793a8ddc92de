"""The audit store: hash-chained lines, the chain's head and anchor, outbox and inbox.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

import servicekit.db
from servicekit.messaging import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    # Written out, not created from the models: a revision must keep creating what it created the day it shipped.
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table('audit_line',
    sa.Column('seq', seq, autoincrement=False, nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('occurred_at', servicekit.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('deployment_id', sa.Uuid(), nullable=True),
    sa.Column('actor_account_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=30), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_id', sa.String(length=100), nullable=False),
    sa.Column('notebook_id', sa.Uuid(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_line')),
    sa.UniqueConstraint('event_id', name=op.f('uq_audit_line_event_id')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_line_prev_hash')),
    )
    with op.batch_alter_table('audit_line', schema=None) as batch_op:
        batch_op.create_index('ix_audit_line_deployment_seq', ['deployment_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_line_notebook', ['notebook_id'], unique=False)
        batch_op.create_index('ix_audit_line_actor', ['actor_account_id'], unique=False)
        batch_op.create_index('ix_audit_line_recorded_at', ['recorded_at'], unique=False)
    chain = op.create_table('audit_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('head_seq', seq, nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('anchor_seq', seq, nullable=False),
    sa.Column('anchor_hash', sa.String(length=64), nullable=False),
    sa.Column('purged_on', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain')),
    )
    op.bulk_insert(chain, [{"id": 1, "head_seq": 0, "head_hash": GENESIS, "anchor_seq": 0, "anchor_hash": GENESIS,
                            "purged_on": ""}])
    # Append-only at the database too: an UPDATE of a line is refused (whoever drops this trigger to rewrite a line
    # is still caught by `carnet audit verify`).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION audit_line_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   "BEGIN RAISE EXCEPTION 'audit_line is append-only'; END $$")
        op.execute("CREATE TRIGGER audit_line_no_update BEFORE UPDATE ON audit_line "
                   "FOR EACH ROW EXECUTE FUNCTION audit_line_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_line_no_update BEFORE UPDATE ON audit_line "
                   "BEGIN SELECT RAISE(ABORT, 'audit_line is append-only'); END")
    create_messaging_tables(op.get_bind())


def downgrade() -> None:
    drop_messaging_tables(op.get_bind())
    op.execute("DROP TRIGGER IF EXISTS audit_line_no_update" + (
        " ON audit_line" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_line_append_only()")
    op.drop_table('audit_chain')
    with op.batch_alter_table('audit_line', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_line_recorded_at')
        batch_op.drop_index('ix_audit_line_actor')
        batch_op.drop_index('ix_audit_line_notebook')
        batch_op.drop_index('ix_audit_line_deployment_seq')
    op.drop_table('audit_line')
