"""PostgreSQL's pooled connections: one that served a moment ago is handed out again as is (SQLAlchemy's
``pool_pre_ping`` cost three round trips at every checkout, issue 19 item 3); one idle for a while is pinged, and
replaced if it was lost; the connections a load opened are kept for the next one."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from servicekit import db
from servicekit.db import create_engine

pytestmark = [pytest.mark.integration, pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)]


@pytest.fixture
async def engine(databases):
    engine = create_engine(await databases.create("kit"))
    yield engine
    await engine.dispose()


@pytest.fixture
def pings(monkeypatch) -> list[bool]:
    pinged: list[bool] = []
    ping = AsyncAdapt_asyncpg_connection.ping

    def counted(self):
        pinged.append(True)
        return ping(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return pinged


async def backend_pid(engine) -> int:
    async with engine.begin() as connection:
        return await connection.scalar(text("SELECT pg_backend_pid()"))


async def test_a_connection_that_served_a_moment_ago_is_not_pinged(engine, pings):
    first = await backend_pid(engine)
    pings.clear()  # a new connection may be pinged once
    assert {await backend_pid(engine) for _ in range(20)} == {first}  # the same connection, again and again
    assert pings == []


async def test_a_connection_lost_while_idle_is_replaced_without_an_error(engine, pings, monkeypatch):
    lost = await backend_pid(engine)
    other = create_engine(engine.url.render_as_string(hide_password=False))  # another process, say
    try:
        async with other.connect() as connection:
            assert await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": lost})
    finally:
        await other.dispose()
    monkeypatch.setattr(db, "PING_IDLE_S", 0.0)  # every connection counts as idle for a while

    assert await backend_pid(engine) != lost  # not an error: pinged, found lost, replaced
    assert pings


async def test_connections_opened_under_load_are_kept_for_the_next_load(engine):
    opened: list[bool] = []
    event.listen(engine.sync_engine.pool, "connect", lambda *_: opened.append(True))

    async def burst() -> None:
        async def hold(ready: asyncio.Barrier) -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                await ready.wait()  # every connection in use at once

        ready = asyncio.Barrier(db.POOL_SIZE)
        await asyncio.gather(*(hold(ready) for _ in range(db.POOL_SIZE)))

    await burst()
    assert len(opened) == db.POOL_SIZE
    await burst()
    assert len(opened) == db.POOL_SIZE  # none closed when handed back, none opened again
