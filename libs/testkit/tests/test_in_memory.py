"""``in_memory`` lets a service's database go only once the work a test started on it has ended, and fails the test
that leaves a task working on it: cut off when the test's loop closes, such a task kept SQLite's write lock and the
module's next tests waited on it until their timeout (CI of 7db2607)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from testkit import handlers
from testkit.handlers import handler_databases  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


async def test_a_test_that_leaves_a_task_on_the_database_fails_at_its_end_naming_the_service(handler_databases,
                                                                                          monkeypatch):
    monkeypatch.setattr(handlers, "SETTLE_S", 0.2)
    service = handlers.build_service("notify", await handler_databases.url("notify"))
    inside = asyncio.Event()

    async def left_working() -> None:
        async with service.sessions.begin() as session:
            await session.execute(text("SELECT 1"))
            inside.set()
            await asyncio.sleep(60)

    with pytest.raises(AssertionError, match=r"connections still in use 0.2 s after the test ended \(notify: 1\)"):
        async with handlers.in_memory(service):
            task = asyncio.create_task(left_working())
            await inside.wait()
    task.cancel()  # while the loop runs: its transaction is rolled back, its connection given back
    await asyncio.gather(task, return_exceptions=True)


async def test_work_that_ends_soon_after_the_test_is_waited_for(handler_databases):
    service = handlers.build_service("notify", await handler_databases.url("notify"))
    ended = []

    async def finishing() -> None:
        async with service.sessions.begin() as session:
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(0.2)
            ended.append(True)

    async with handlers.in_memory(service):
        task = asyncio.create_task(finishing())
        await asyncio.sleep(0.05)
    assert ended == [True]  # its transaction ended before the engine was let go
    await task
