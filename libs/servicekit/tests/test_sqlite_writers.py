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


async def write(sessions, name: str, hold: asyncio.Event | None = None, next_turn: bool = False) -> None:
    async with sessions.begin() as session:
        if next_turn:
            await session.connection(execution_options={db.SQLITE_NEXT_TURN: True})
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


async def test_a_transaction_begun_for_the_next_turn_goes_before_the_writers_waiting(engine):
    """The relay's mark, which the relay's next round waits for (and every event committed meanwhile with it), is
    not queued behind a burst of the service's writers."""
    sessions = sessionmaker(engine)
    await asyncio.gather(*(written(sessions) for _ in range(5)))  # connections ready: each writer queues at once
    release_first = asyncio.Event()
    first = asyncio.create_task(write(sessions, "first", release_first))
    await asyncio.sleep(0.2)  # the first holds the write lock
    waiting = []
    for n in range(3):  # one after the other (each connects first, in no set order)
        waiting.append(asyncio.create_task(write(sessions, f"waiting-{n}")))
        await asyncio.sleep(0.2)
    mark = asyncio.create_task(write(sessions, "mark", next_turn=True))
    await asyncio.sleep(0.2)
    release_first.set()
    await asyncio.gather(first, mark, *waiting)
    assert await written(sessions) == ["first", "mark", "waiting-0", "waiting-1", "waiting-2"]


async def test_a_writer_cancelled_while_waiting_for_its_turn_lets_the_others_through(engine):
    sessions = sessionmaker(engine)
    release_first = asyncio.Event()
    first = asyncio.create_task(write(sessions, "first", release_first))
    await asyncio.sleep(0.2)
    cancelled = asyncio.create_task(write(sessions, "cancelled", next_turn=True))
    waiting = asyncio.create_task(write(sessions, "waiting"))
    await asyncio.sleep(0.2)
    cancelled.cancel()
    release_first.set()
    await asyncio.gather(first, waiting)
    await asyncio.gather(cancelled, return_exceptions=True)
    await write(sessions, "after")
    assert await written(sessions) == ["first", "waiting", "after"]


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
