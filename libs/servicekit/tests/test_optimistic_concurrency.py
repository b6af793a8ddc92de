"""Versioned rows (``versioned_by``) and SQLite write transactions (BEGIN IMMEDIATE), on SQLite and PostgreSQL:
two writers that read the same version can never both commit."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from servicekit.concurrency import EDITED_MEANWHILE, once_more_if_stale
from servicekit.db import create_engine, is_sqlite, new_declarative_base, sessionmaker, versioned_by
from servicekit.errors import Conflict

pytestmark = pytest.mark.integration

Base = new_declarative_base()


class Item(Base):
    __tablename__ = "item"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    label: Mapped[str] = mapped_column(String(50))
    touched: Mapped[str] = mapped_column(String(50), default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = versioned_by(version)


@pytest.fixture
async def engine(databases):
    engine = create_engine(await databases.create("versions"))
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


async def new_item(sessions) -> uuid.UUID:
    async with sessions.begin() as session:
        item = Item(label="a")
        session.add(item)
    return item.id


async def test_a_version_read_before_another_commit_cannot_be_written(engine):
    """The UPDATE carries ``WHERE version = <read>``: the database refuses the loser, whatever Python compared."""
    sessions = sessionmaker(engine)
    item_id = await new_item(sessions)
    async with sessions() as reader:
        stale = await reader.get(Item, item_id)
        await reader.commit()  # ends the read transaction; the object keeps version 1
        async with sessions.begin() as winner:
            fresh = await winner.get(Item, item_id)
            fresh.label, fresh.version = "winner", fresh.version + 1
        with pytest.raises(StaleDataError):
            async with reader.begin():
                stale.label = "loser"
                stale.version += 1
    async with sessions() as session:
        saved = await session.get(Item, item_id)
        assert (saved.label, saved.version) == ("winner", 2)


async def test_a_change_that_keeps_the_version_still_checks_it(engine):
    """Not every change makes a new version, but every UPDATE of the row is conditional on the version read."""
    sessions = sessionmaker(engine)
    item_id = await new_item(sessions)
    async with sessions() as reader:
        stale = await reader.get(Item, item_id)
        await reader.commit()
        async with sessions.begin() as winner:
            (await winner.get(Item, item_id)).version += 1
        with pytest.raises(StaleDataError):
            async with reader.begin():
                stale.touched = "x"


async def test_concurrent_read_check_update_lets_exactly_one_writer_win(engine):
    """N requests that all read version 1 (the client's version): one saves, the others get 409. Each reads then
    writes in one transaction, pausing in between so that all of them overlap: on SQLite BEGIN IMMEDIATE makes
    them take turns (the later ones read version 2); on PostgreSQL, without a row lock, the losers' UPDATE finds
    version 2 (StaleDataError) and the RPC boundary's second run answers 409."""
    sessions = sessionmaker(engine)
    item_id = await new_item(sessions)

    async def save(label: str) -> str:
        async with sessions.begin() as session:
            item = await session.get(Item, item_id, populate_existing=True)
            if item.version != 1:
                raise Conflict("changed", details={"version": item.version})
            await asyncio.sleep(0.05)
            item.label, item.version = label, item.version + 1
        return label

    outcomes = await asyncio.gather(*(once_more_if_stale(save, f"w{i}") for i in range(8)), return_exceptions=True)
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 7, outcomes
    assert all(o.details == {"version": 2} for o in losers)
    async with sessions() as session:
        saved = await session.get(Item, item_id)
        assert (saved.label, saved.version) == (winners[0], 2)


async def test_losing_twice_is_a_conflict():
    async def always_stale():
        raise StaleDataError("UPDATE statement on table 'item' expected to update 1 row(s); 0 were matched.")

    with pytest.raises(Conflict) as refused:
        await once_more_if_stale(always_stale)
    assert refused.value.message == EDITED_MEANWHILE


async def test_sqlite_readers_do_not_wait_for_a_writer(engine):
    """Only sessions opened with ``begin()`` (those that write) take SQLite's write lock at BEGIN: a page being
    read is not queued behind a save in progress."""
    if not is_sqlite(engine):
        pytest.skip("PostgreSQL readers never wait for writers")
    sessions = sessionmaker(engine)
    item_id = await new_item(sessions)
    async with sessions.begin() as writer:
        (await writer.get(Item, item_id)).label = "in progress"
        await writer.flush()
        started = time.monotonic()
        async with sessions() as reader:
            assert await reader.scalar(select(Item.label).where(Item.id == item_id)) == "a"
        assert time.monotonic() - started < 1
