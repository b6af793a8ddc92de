"""The beneficiaries' search at 100,000 notebooks (issue 19 item 2): a narrow name-ordered row per notebook
(``notebook_search``, see notebook.adapters.search_orm), kept by triggers in the writer's transaction, with the
text index moved onto it (FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL). A word shared by 10 % of a territory
then sorts 10,000 narrow rows instead of 10,000 beneficiaries joined to their notebooks.

Beneficiary's own text index (migration 0005) is dropped: nothing reads it any more, and every write paid for it.
On SQLite, a later migration that rebuilds ``beneficiary``, ``notebook`` or ``notebook_search`` (a batch "move and
copy") drops their triggers: it must create them again as below (the search tests would show the list stale).

Revision ID: 0023
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None

COLUMNS = "notebook_id, beneficiary_id, deployment_id, lastname, firstname, search_text, subject_to_right_and_duty"
# The beneficiary's columns the row copies, as compared by the update triggers (no work when none changed).
COPIED = ("deployment_id", "lastname", "firstname", "search_text", "subject_to_right_and_duty")


FROM_BENEFICIARY = "b.id, b.deployment_id, b.lastname, b.firstname, b.search_text, b.subject_to_right_and_duty"
BACKFILL = (f"INSERT INTO notebook_search ({COLUMNS}) SELECT n.id, {FROM_BENEFICIARY} "
            "FROM notebook n JOIN beneficiary b ON b.id = n.beneficiary_id")


def copy_of(notebook: str) -> str:
    """The row of the trigger's ``new`` notebook, read from its beneficiary."""
    return (f"INSERT INTO notebook_search ({COLUMNS}) SELECT {notebook}.id, {FROM_BENEFICIARY} "
            f"FROM beneficiary b WHERE b.id = {notebook}.beneficiary_id")


UPDATE_FROM_NEW = ("UPDATE notebook_search SET " + ", ".join(f"{c} = new.{c}" for c in COPIED)
                   + " WHERE beneficiary_id = new.id")

SQLITE = [
    f"""CREATE TRIGGER notebook_search_insert AFTER INSERT ON notebook BEGIN {copy_of("new")}; END""",
    """CREATE TRIGGER notebook_search_delete AFTER DELETE ON notebook BEGIN
         DELETE FROM notebook_search WHERE notebook_id = old.id;
       END""",
    f"""CREATE TRIGGER notebook_search_relink AFTER UPDATE OF beneficiary_id ON notebook BEGIN
         DELETE FROM notebook_search WHERE notebook_id = old.id;
         {copy_of("new")};
       END""",
    f"""CREATE TRIGGER notebook_search_beneficiary AFTER UPDATE OF {", ".join(COPIED)} ON beneficiary
       WHEN {" OR ".join(f"old.{c} IS NOT new.{c}" for c in COPIED)} BEGIN {UPDATE_FROM_NEW}; END""",
    "CREATE VIRTUAL TABLE notebook_search_fts USING fts5(search_text, content='notebook_search', "
    "content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER notebook_search_fts_insert AFTER INSERT ON notebook_search BEGIN
         INSERT INTO notebook_search_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    """CREATE TRIGGER notebook_search_fts_delete AFTER DELETE ON notebook_search BEGIN
         INSERT INTO notebook_search_fts(notebook_search_fts, rowid, search_text)
         VALUES ('delete', old.id, old.search_text);
       END""",
    """CREATE TRIGGER notebook_search_fts_update AFTER UPDATE OF search_text ON notebook_search
       WHEN old.search_text IS NOT new.search_text BEGIN
         INSERT INTO notebook_search_fts(notebook_search_fts, rowid, search_text)
         VALUES ('delete', old.id, old.search_text);
         INSERT INTO notebook_search_fts(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    "INSERT INTO notebook_search_fts(notebook_search_fts) VALUES ('rebuild')",
]

POSTGRESQL = [
    f"""CREATE FUNCTION notebook_search_of_notebook() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('DELETE', 'UPDATE') THEN
            DELETE FROM notebook_search WHERE notebook_id = OLD.id;
          END IF;
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            {copy_of("NEW")};
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER notebook_search_of_notebook AFTER INSERT OR DELETE OR UPDATE OF beneficiary_id ON notebook
       FOR EACH ROW EXECUTE FUNCTION notebook_search_of_notebook()""",
    f"""CREATE FUNCTION notebook_search_of_beneficiary() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {UPDATE_FROM_NEW};
          RETURN NULL;
        END $$""",
    f"""CREATE TRIGGER notebook_search_of_beneficiary AFTER UPDATE OF {", ".join(COPIED)} ON beneficiary
       FOR EACH ROW WHEN (({", ".join(f"OLD.{c}" for c in COPIED)}) IS DISTINCT FROM ({", ".join(f"NEW.{c}" for c in COPIED)}))
       EXECUTE FUNCTION notebook_search_of_beneficiary()""",
]

# Migration 0005's index on beneficiary, restored by the downgrade.
SQLITE_0005 = [
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
    op.create_table(
        "notebook_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notebook_id", sa.Uuid(), nullable=False),
        sa.Column("beneficiary_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("lastname", sa.String(length=120), nullable=False),
        sa.Column("firstname", sa.String(length=120), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("subject_to_right_and_duty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notebook_search")),
        sa.UniqueConstraint("beneficiary_id", name=op.f("uq_notebook_search_beneficiary_id")),
        sa.UniqueConstraint("notebook_id", name=op.f("uq_notebook_search_notebook_id")),
    )
    # Filled before its indexes exist: one sort per index instead of 100,000 insertions into each.
    op.execute(BACKFILL)
    op.create_index("ix_notebook_search_order", "notebook_search",
                    ["deployment_id", "lastname", "firstname", "notebook_id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for statement in POSTGRESQL:
            op.execute(statement)
        if bind.scalar(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")):
            op.execute("DROP INDEX IF EXISTS ix_beneficiary_search_trgm")
            op.execute("CREATE INDEX ix_notebook_search_trgm ON notebook_search USING gin (search_text gin_trgm_ops)")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER beneficiary_fts_{trigger}")
        op.execute("DROP TABLE beneficiary_fts")
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER notebook_search_of_beneficiary ON beneficiary")
        op.execute("DROP TRIGGER notebook_search_of_notebook ON notebook")
        op.execute("DROP FUNCTION notebook_search_of_beneficiary()")
        op.execute("DROP FUNCTION notebook_search_of_notebook()")
        if bind.scalar(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")):
            op.execute("DROP INDEX ix_notebook_search_trgm")
            op.execute("CREATE INDEX ix_beneficiary_search_trgm ON beneficiary USING gin (search_text gin_trgm_ops)")
    else:
        for trigger in ("insert", "delete", "relink", "beneficiary", "fts_insert", "fts_delete", "fts_update"):
            op.execute(f"DROP TRIGGER notebook_search_{trigger}")
        op.execute("DROP TABLE notebook_search_fts")
        for statement in SQLITE_0005:
            op.execute(statement)
    op.drop_index("ix_notebook_search_order", table_name="notebook_search")
    op.drop_table("notebook_search")
