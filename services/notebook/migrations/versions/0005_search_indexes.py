"""Indexes for the beneficiaries' search by parts of words (a LIKE '%…%' on ``beneficiary.search_text``), so that
it stays fast over 100,000 notebooks: a trigram GIN index on PostgreSQL, an FTS5 trigram table on SQLite.

Neither is declared in the models (each exists on one backend only): ``servicekit.migrations`` leaves them out
of the comparison between migrations and models. On SQLite the FTS table follows ``beneficiary`` through
triggers; a later migration that rebuilds ``beneficiary`` (a batch "move and copy") must rebuild it as below.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE beneficiary_fts USING fts5(search_text, content='beneficiary', tokenize='trigram')",
    """CREATE TRIGGER beneficiary_fts_insert AFTER INSERT ON beneficiary BEGIN
         INSERT INTO beneficiary_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
       END""",
    """CREATE TRIGGER beneficiary_fts_delete AFTER DELETE ON beneficiary BEGIN
         INSERT INTO beneficiary_fts(beneficiary_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
       END""",
    """CREATE TRIGGER beneficiary_fts_update AFTER UPDATE OF search_text ON beneficiary BEGIN
         INSERT INTO beneficiary_fts(beneficiary_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
         INSERT INTO beneficiary_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
       END""",
    "INSERT INTO beneficiary_fts(beneficiary_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # pg_trgm ships with PostgreSQL's contrib; where it is missing the search works, only slower.
        if bind.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")):
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.execute("CREATE INDEX ix_beneficiary_search_trgm ON beneficiary USING gin (search_text gin_trgm_ops)")
    else:
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_beneficiary_search_trgm")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER beneficiary_fts_{trigger}")
        op.execute("DROP TABLE beneficiary_fts")
