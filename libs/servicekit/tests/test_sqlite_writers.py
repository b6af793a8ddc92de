"""SQLite's write transactions of one process take turns first come first served (``servicekit.db``): left to
SQLite's busy handler, a writer that had waited long slept up to 100 ms between tries and newer writers took the
lock before it (the outbox relay's mark, starved by a stream of commits: issue 19 item 3)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from servicekit import db
from servicekit.db import create_engine, is_sqlite, new_declarative_base, sessionmaker

pytestmark = pytest.mark.integration

Base = new_declarative_base()


class Entry(Base):
    __tablename__ = "entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    writer: Mapped[str] = mapped_column(String(20))


@pytest.fixture
async def engine(databases):
    engine = create_engine(await databases.create("writers"))
    if not is_sqlite(engine):
        await engine.dispose()
        pytest.skip("PostgreSQL locks rows, not the database")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


async def write(sessions, name: str, hold: asyncio.Event | None = None) -> None:
    async with sessions.begin() as session:
        session.add(Entry(writer=name))
        await session.flush()
        if hold is not None:
            await hold.wait()


async def written(sessions) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(Entry.writer).order_by(Entry.id))).all())


async def test_a_writer_that_waited_long_goes_before_a_newer_one(engine):
    sessions = sessionmaker(engine)
    release_first = asyncio.Event()
    first = asyncio.create_task(write(sessions, "first", release_first))
    await asyncio.sleep(0.2)  # the first holds the write lock
    waiting = asyncio.create_task(write(sessions, "waiting"))
    await asyncio.sleep(1)  # long enough for SQLite's busy handler to poll only every 100 ms
    release_first.set()
    await first
    newer = asyncio.create_task(write(sessions, "newer"))
    await asyncio.gather(waiting, newer)
    assert await written(sessions) == ["first", "waiting", "newer"]


async def test_a_failed_write_transaction_lets_the_next_writer_in(engine):
    sessions = sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with sessions.begin() as session:
            session.add(Entry(writer="undone"))
            await session.flush()
            raise RuntimeError("the handler failed")
    await write(sessions, "next")
    assert await written(sessions) == ["next"]


async def test_a_writer_waiting_for_its_own_transaction_fails_as_sqlite_would_instead_of_hanging(engine, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 1)
    sessions = sessionmaker(engine)
    async with sessions.begin() as outer:
        outer.add(Entry(writer="outer"))
        await outer.flush()
        with pytest.raises(OperationalError, match="database is locked"):
            await write(sessions, "inner")
    await write(sessions, "after")
    assert await written(sessions) == ["outer", "after"]


async def test_every_connection_keeps_a_small_page_cache(engine):
    """SQLite's default 2 MiB a connection stayed filled by the start-up's reads in an idle service's pool (the
    notebook over its 90 MB budget); in WAL mode a cache is dropped at every other connection's write anyway."""
    async with engine.connect() as first, engine.connect() as second:
        for connection in (first, second):
            assert (await connection.exec_driver_sql("PRAGMA cache_size")).scalar() == -db.SQLITE_CACHE_KIB
