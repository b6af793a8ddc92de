"""A service's SQLite statements: one hand-over each to the connection's thread (servicekit.one_hop_sqlite), with
what SQLAlchemy reads of a cursor unchanged, errors included; streamed results still streamed."""
from __future__ import annotations

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, exc, insert, select, text, update

from servicekit.db import create_engine

metadata = MetaData()
things = Table("thing", metadata, Column("id", Integer, primary_key=True), Column("name", String, unique=True))


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'one-hop.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def hand_overs(monkeypatch) -> list[bool]:
    calls: list[bool] = []
    execute = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        calls.append(True)
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return calls


async def test_a_statement_is_one_hand_over_to_the_connections_thread(engine, hand_overs):
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the connection's own first statements
        hand_overs.clear()
        assert (await connection.execute(select(things.c.id))).all() == []
        assert len(hand_overs) == 1  # SQLAlchemy's aiosqlite adapter: cursor, execute, fetchall, close

        hand_overs.clear()
        await connection.execute(insert(things).values(name="un"))
        assert len(hand_overs) == 1


async def test_what_sqlalchemy_reads_of_a_statement_is_unchanged(engine):
    async with engine.begin() as connection:
        inserted = await connection.execute(insert(things).values(name="un"))
        assert inserted.inserted_primary_key == (1,)  # the last row id
        many = await connection.execute(insert(things), [{"name": "deux"}, {"name": "trois"}])
        assert many.rowcount == 2
        changed = await connection.execute(update(things).where(things.c.id > 1).values(name=things.c.name + "!"))
        assert changed.rowcount == 2
        result = await connection.execute(select(things.c.id, things.c.name).order_by(things.c.id))
        assert list(result.keys()) == ["id", "name"]
        assert result.all() == [(1, "un"), (2, "deux!"), (3, "trois!")]
        assert (await connection.execute(select(things.c.name).where(things.c.id == 2))).scalar_one() == "deux!"
        returned = await connection.execute(insert(things).values(name="quatre").returning(things.c.id))
        assert returned.scalar_one() == 4


async def test_a_failed_statement_raises_as_before_and_the_transaction_goes_on(engine):
    async with engine.begin() as connection:
        await connection.execute(insert(things).values(name="un"))
    async with engine.connect() as connection:
        with pytest.raises(exc.IntegrityError):
            await connection.execute(insert(things).values(name="un"))
        await connection.rollback()
        with pytest.raises(exc.OperationalError):
            await connection.execute(text("SELECT nothing FROM nowhere"))
        await connection.rollback()
        assert (await connection.execute(select(things.c.name))).scalars().all() == ["un"]


async def test_streamed_results_are_still_fetched_in_batches(engine, hand_overs):
    async with engine.begin() as connection:
        await connection.execute(insert(things), [{"name": f"n{n}"} for n in range(100)])
    async with engine.connect() as connection:
        hand_overs.clear()
        result = await connection.stream(select(things.c.id).execution_options(yield_per=10))
        batches = [len(batch) async for batch in result.partitions()]
    assert batches == [10] * 10
    assert len(hand_overs) > 10  # a fetch for each batch, not every row at once
