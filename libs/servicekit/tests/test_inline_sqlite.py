"""The read-only SQLite engine whose statements run in the loop's thread (``servicekit.inline_sqlite``): the same
rows as the service's aiosqlite engine without a turn of the event loop per statement, each read a snapshot of the
last commit, and no write through it."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import JSON, String, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from servicekit.db import create_engine, new_declarative_base, sessionmaker
from servicekit.inline_sqlite import create_reader

pytestmark = pytest.mark.integration

Base = new_declarative_base()


class Row(Base):
    __tablename__ = "row"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    data: Mapped[dict] = mapped_column(JSON)


@pytest.fixture
async def engines(tmp_path):
    url = f"sqlite:///{tmp_path / 'inline.db'}"
    writer = create_engine(url)
    async with writer.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    reader = create_reader(url)
    yield sessionmaker(writer), sessionmaker(reader)
    await reader.dispose()
    await writer.dispose()


async def add(sessions, name: str) -> None:
    async with sessions.begin() as session:
        session.add(Row(id=uuid.uuid4(), name=name, at=datetime(2026, 11, 29, 12, tzinfo=UTC), data={"n": [name]}))


async def read_without_a_loop_turn(sessions) -> tuple[list, bool]:
    """The rows (as ORM objects and as Core rows), and whether the loop ran anything else meanwhile (the session's
    end aside: SQLAlchemy closes it in a task of its own)."""
    turned = []
    async with sessions() as session:
        asyncio.get_running_loop().call_soon(turned.append, True)
        objects = [(r.id, r.name, r.at, r.data) for r in (await session.scalars(select(Row).order_by(Row.name)))]
        rows = [tuple(r) for r in await session.execute(select(Row.id, Row.name, Row.at, Row.data).order_by(Row.name))]
        return [objects, rows], bool(turned)


async def test_a_read_gives_the_same_rows_as_aiosqlite_without_a_turn_of_the_loop(engines):
    writer, reader = engines
    await add(writer, "a")
    await add(writer, "b")

    fast, fast_turned = await read_without_a_loop_turn(reader)
    plain, plain_turned = await read_without_a_loop_turn(writer)

    assert fast == plain and len(fast[0]) == 2 and fast[0][0][2] == datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert isinstance(fast[1][0][0], uuid.UUID) and fast[1][1][3] == {"n": ["b"]}
    # aiosqlite hands every call to its thread and back through the loop; the reader never leaves it.
    assert plain_turned and not fast_turned


async def test_each_read_sees_the_last_commit_and_keeps_its_snapshot(engines):
    writer, reader = engines
    await add(writer, "a")
    async with reader() as session:
        before = (await session.scalars(select(Row.name))).all()
        await add(writer, "b")  # committed while the read is open: not in its snapshot
        during = (await session.scalars(select(Row.name))).all()
    async with reader() as session:
        after = (await session.scalars(select(Row.name).order_by(Row.name))).all()

    assert before == during == ["a"] and after == ["a", "b"]


async def test_a_reader_opening_the_file_first_puts_it_in_wal_mode_and_does_not_wait_for_a_writer(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    reader = create_reader(url)
    try:
        async with reader.connect() as connection:  # before any writer
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        writer = create_engine(url)
        async with writer.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await add(sessionmaker(writer), "a")
        async with sessionmaker(writer).begin() as session:  # a write transaction left open
            session.add(Row(id=uuid.uuid4(), name="b", at=datetime(2026, 11, 29, 12, tzinfo=UTC), data={}))
            await session.flush()
            async with sessionmaker(reader)() as read:
                seen = (await read.scalars(select(Row.name))).all()
        await writer.dispose()
    finally:
        await reader.dispose()

    assert mode == "wal" and seen == ["a"]


async def test_a_write_through_the_reader_fails_at_once(engines):
    _, reader = engines
    with pytest.raises(OperationalError, match="readonly"):
        await add(reader, "never")
