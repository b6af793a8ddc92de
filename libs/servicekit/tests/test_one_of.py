"""``one_of``: a batch's keys as one array parameter on PostgreSQL (one statement whatever their number), an IN on
SQLite; the same rows either way."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Column, MetaData, String, Table, Uuid, insert, select, update
from sqlalchemy.dialects.postgresql import asyncpg

from servicekit.db import create_engine, is_sqlite, one_of

pytestmark = pytest.mark.integration
things = Table("thing", MetaData(), Column("id", Uuid, primary_key=True), Column("name", String(40)),
               Column("seen", String(10)))


async def test_one_of_finds_and_changes_the_rows_of_its_keys_only(databases):
    engine = create_engine(await databases.create("kit"))
    sqlite = is_sqlite(engine)
    rows = [{"id": uuid.uuid4(), "name": f"n{i}", "seen": ""} for i in range(600)]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(things.metadata.create_all)
            await connection.execute(insert(things), rows)
            wanted = [row["id"] for row in rows[::3]]
            found = set((await connection.execute(select(things.c.id).where(
                one_of(things.c.id, wanted, sqlite=sqlite)))).scalars())
            assert found == set(wanted)
            names = set((await connection.execute(select(things.c.name).where(
                one_of(things.c.name, ["n1", "n2", "absent"], sqlite=sqlite)))).scalars())
            assert names == {"n1", "n2"}
            changed = await connection.execute(update(things).where(
                one_of(things.c.id, wanted[:10], sqlite=sqlite)).values(seen="yes"))
            assert changed.rowcount == 10
            assert (await connection.execute(select(things.c.id).where(one_of(things.c.id, [], sqlite=sqlite)))
                    ).all() == []
    finally:
        await engine.dispose()


def test_on_postgresql_the_statement_does_not_change_with_the_number_of_keys():
    """Compiled (and prepared by PostgreSQL) once: an IN of 500 values was 500 parameters rendered each time."""
    dialect = asyncpg.dialect()

    def sql(count: int) -> str:
        keys = [uuid.uuid4() for _ in range(count)]
        return str(select(things.c.name).where(one_of(things.c.id, keys, sqlite=False)).compile(dialect=dialect))

    assert sql(1) == sql(500)
    assert "ANY" in sql(3)
