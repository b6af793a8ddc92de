"""What wakes the outbox relay: the commit of an outbox write in its process, on PostgreSQL the commit of any process
on the same database (LISTEN/NOTIFY: replicas), and its poll otherwise. Real nats-server; the relays here poll once
an hour, so only a wake-up can publish in time."""
from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest
from sqlalchemy import func, select, text

from contracts.base import IntegrationEvent
from servicekit.db import create_engine, sessionmaker
from servicekit.messaging import create_messaging_tables, outbox_table
from servicekit.outbox import Outbox
from servicekit.relay import OutboxRelay

pytestmark = pytest.mark.integration
NEVER_S = 3600.0  # the relays' poll: a test that passes did not wait for it
postgresql_only = pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)


class WokenV1(IntegrationEvent):
    """A test-only event, left out of the contracts registry."""

    subject: ClassVar[str] = "notify.woken.happened.v1"


@pytest.fixture
async def sessions(databases):
    engine = create_engine(await databases.create("kit"))
    async with engine.begin() as connection:
        await connection.run_sync(create_messaging_tables)
    yield sessionmaker(engine)
    await engine.dispose()


class CountingJetStream:
    """The relay's JetStream, counting its publishes (JetStream would hide a second one: same Nats-Msg-Id)."""

    def __init__(self, js) -> None:
        self.js, self.published = js, 0

    async def publish_async(self, *args, **kwargs):
        self.published += 1
        return await self.js.publish_async(*args, **kwargs)


async def write(sessions, outbox: Outbox, count: int = 1) -> None:
    async with sessions() as session, session.begin():
        await outbox.add_all(session, [WokenV1() for _ in range(count)])


async def unpublished(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).where(outbox_table.c.published_at.is_(None)))


async def until(predicate, timeout_s: float = 60) -> None:
    for _ in range(int(timeout_s / 0.05)):  # generous for a shared CI machine, far below the relays' poll
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def idle(relay: OutboxRelay) -> None:
    """Until ``relay`` waits for a wake-up: its first round done and, on PostgreSQL, the round its LISTEN started."""
    await until(lambda: _true(relay.rounds >= 1 if relay.is_sqlite else relay.listening.is_set() and relay.rounds >= 2))


async def _true(value: bool) -> bool:
    return value


async def test_a_commit_during_a_round_is_published_without_waiting_for_the_poll(sessions, jetstream):
    """The tail of event propagation: a commit landing while the relay published the previous rows was forgotten
    (the wake-up cleared after the round), and its event waited for the next commit or the poll."""
    outbox = Outbox()
    written_meanwhile = []

    async def write_meanwhile(_count: int) -> None:
        if not written_meanwhile:
            written_meanwhile.append(True)
            await write(sessions, outbox)

    relay = OutboxRelay("kit", sessions, jetstream, outbox, poll_interval_s=NEVER_S, after_publish=write_meanwhile)
    await write(sessions, outbox)
    running = asyncio.create_task(relay.run_forever())
    try:
        await until(lambda: _true(bool(written_meanwhile)))
        await until(lambda: _zero(unpublished(sessions)))
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def _zero(count) -> bool:
    return await count == 0


@postgresql_only
async def test_a_commit_in_one_process_wakes_the_relay_of_another(sessions, jetstream):
    writer, replica = Outbox(), Outbox()  # two processes: the writer's own relay is not running
    relay = OutboxRelay("kit", sessions, jetstream, replica, poll_interval_s=NEVER_S)
    running = asyncio.create_task(relay.run_forever())
    try:
        await idle(relay)
        await write(sessions, writer, 3)
        await until(lambda: _zero(unpublished(sessions)))
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


@postgresql_only
async def test_two_replicas_woken_by_each_other_publish_each_event_once(sessions, jetstream):
    outboxes = [Outbox(), Outbox()]
    counting = [CountingJetStream(jetstream), CountingJetStream(jetstream)]
    relays = [OutboxRelay("kit", sessions, js, outbox, poll_interval_s=NEVER_S, batch_size=7)
              for js, outbox in zip(counting, outboxes, strict=True)]
    running = [asyncio.create_task(relay.run_forever()) for relay in relays]
    try:
        for relay in relays:
            await idle(relay)
        await asyncio.gather(*(write(sessions, outboxes[n % 2], 10) for n in range(20)))
        await until(lambda: _zero(unpublished(sessions)))
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    assert sum(js.published for js in counting) == 200  # each row published by one relay, once
    assert (await jetstream.stream_info("NOTIFY", subjects_filter=WokenV1.subject)).state.messages == 200


@postgresql_only
async def test_rows_written_by_a_synchronous_listener_wake_the_relay_of_another_process(sessions, jetstream):
    """The outbox rows a session listener writes itself before the commit (identity's login audit, the notebook's
    pilotage events) cannot await ``Outbox.add``: ``wake_replicas`` gives them the same NOTIFY."""
    from sqlalchemy import event as sa_event
    from sqlalchemy import insert

    from servicekit.outbox import outbox_rows

    writer, replica = Outbox(), Outbox()
    relay = OutboxRelay("kit", sessions, jetstream, replica, poll_interval_s=NEVER_S)
    running = asyncio.create_task(relay.run_forever())

    def before_commit(session) -> None:
        session.execute(insert(outbox_table), outbox_rows([WokenV1(), WokenV1()]))
        writer.wake_replicas(session)

    try:
        await idle(relay)
        async with sessions() as session, session.begin():
            sa_event.listen(session.sync_session, "before_commit", before_commit, once=True)
        await until(lambda: _zero(unpublished(sessions)), timeout_s=20)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_events_committed_while_a_mark_waits_for_the_database_are_published_meanwhile(sessions, jetstream):
    """A batch is marked published in a transaction that may wait for the database (on SQLite behind the service's
    writers, for the write lock; on PostgreSQL behind a lock): the events committed meanwhile are published
    without waiting for it. They waited for it, the tail of event propagation at 500 events/s (issue 19 item 3)."""
    outbox = Outbox()
    held, holding = asyncio.Event(), []
    published_while_held = []

    async def on_stream() -> int:
        return (await jetstream.stream_info("NOTIFY", subjects_filter=WokenV1.subject)).state.messages

    async def hold_the_database() -> None:
        async with sessions() as session, session.begin():
            # SQLite: the write lock, taken by the transaction's BEGIN (IMMEDIATE) at its first statement.
            # PostgreSQL: a lock that the mark's UPDATE waits for, and the next round's read does not.
            await session.execute(text("SELECT 1" if relay.is_sqlite
                                       else f"LOCK TABLE {outbox_table.name} IN SHARE MODE"))
            held.set()
            try:
                await until(lambda: _equal(on_stream(), 2), timeout_s=20)
                published_while_held.append(True)
            except AssertionError:
                pass

    async def after_the_first_publication(_count: int) -> None:
        # Before the first batch's mark: the next event committed, then the database held until it is published.
        if not holding:
            await write(sessions, outbox)
            holding.append(asyncio.create_task(hold_the_database()))
            await held.wait()

    relay = OutboxRelay("kit", sessions, jetstream, outbox, poll_interval_s=NEVER_S,
                        after_publish=after_the_first_publication)
    await write(sessions, outbox)
    running = asyncio.create_task(relay.run_forever())
    try:
        await until(lambda: _true(bool(holding)))
        await holding[0]
        await until(lambda: _zero(unpublished(sessions)))
    finally:
        running.cancel()
        await asyncio.gather(running, *holding, return_exceptions=True)
    assert published_while_held == [True]
    assert await on_stream() == 2


async def _equal(value, expected) -> bool:
    return await value == expected
