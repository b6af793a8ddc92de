"""Planner statistics kept up with a table that grows fast (servicekit.statistics), on a real PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Uuid, insert, select, text

from servicekit.db import create_engine
from servicekit.statistics import analyse_grown

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)]
metadata = MetaData()
# As the import service's rows: the next batch is read by number, after the last one sent.
rows = Table("rows", metadata, Column("import_id", Uuid, primary_key=True), Column("row", Integer, primary_key=True),
             Column("status", String(10), nullable=False), Column("outcome", String(10)),
             Column("excluded", Boolean, nullable=False), Index("ix_rows_import_status", "import_id", "status"))
small = Table("small", metadata, Column("id", Integer, primary_key=True))


def next_batch(import_id: uuid.UUID):
    return (select(rows.c.row).where(rows.c.import_id == import_id, rows.c.row > 50_000, rows.c.outcome.is_(None),
                                     rows.c.status.in_(["new", "same"])).order_by(rows.c.row).limit(500))


async def plan(connection, statement) -> str:
    compiled = statement.compile(connection.sync_connection, compile_kwargs={"literal_binds": True})
    return "\n".join((await connection.execute(text(f"EXPLAIN {compiled}"))).scalars())


async def test_a_table_that_grew_past_its_size_is_analysed_once_and_then_planned_for_what_it_holds(databases):
    engine = create_engine(await databases.create("kit"))
    import_id = uuid.uuid4()
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(text("ANALYZE rows"))  # as autovacuum would find it: empty
            await connection.execute(text("ANALYZE small"))
            await connection.execute(insert(rows), [
                {"import_id": import_id, "row": n, "status": "new", "outcome": None, "excluded": False}
                for n in range(2, 100_002)])
            await connection.execute(insert(small), [{"id": n} for n in range(10)])
        async with engine.connect() as connection:
            # Planned from the empty table's statistics: every row of the import read and sorted for 500.
            assert "Sort  (" in await plan(connection, next_batch(import_id))
        # The activity statistics reach PostgreSQL's shared memory within a second of the commit.
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_stat_force_next_flush()"))
        assert await analyse_grown(engine) == ["rows"]  # ten rows more in "small": left to autovacuum
        async with engine.connect() as connection:
            assert 90_000 < await connection.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'rows'"))
            planned = await plan(connection, next_batch(import_id))
            assert "Sort  (" not in planned and "Index Scan using rows_pkey" in planned, planned
        assert await analyse_grown(engine) == []  # nothing changed since
    finally:
        await engine.dispose()
