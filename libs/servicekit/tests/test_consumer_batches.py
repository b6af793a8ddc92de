"""Event consumers take the events waiting on their durable in batches, on a real nats-server, SQLite and PostgreSQL:
an ``exactly_once`` consumer applies a batch in one transaction, in stream order; one event failing undoes the
batch, whose events are then handled one by one (the bad one dead-lettered or retried alone, the others applied
once each)."""
from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace
from typing import ClassVar

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import IntegrationEvent
from contracts.streams import DEADLETTER
from servicekit import consumers
from servicekit.bus import Bus
from servicekit.consumers import Subscription
from servicekit.db import create_engine, sessionmaker
from servicekit.errors import RejectMessage
from servicekit.inbox import exactly_once
from servicekit.messaging import create_messaging_tables

pytestmark = [pytest.mark.integration]


class ProbeHappenedV1(IntegrationEvent):
    """A test-only event, deliberately left out of the contracts registry."""

    subject: ClassVar[str] = "notify.probe.happened.v1"
    label: str = ""


effects = Table("probe_batch_effect", MetaData(), Column("event_id", Uuid, primary_key=True),
                Column("label", String(40)), Column("transaction", Integer), Column("position", Integer))


@dataclass
class Deps:
    sessions: async_sessionmaker[AsyncSession]


transactions, positions = itertools.count(), itertools.count()
flaky_attempts: list[str] = []


@exactly_once("kit-batches")
async def record(event: ProbeHappenedV1, session: AsyncSession, _deps: Deps) -> None:
    if event.label == "poison":
        raise RejectMessage("can never be applied")
    if event.label == "flaky" and not flaky_attempts:
        flaky_attempts.append(event.label)
        raise ConnectionError("the database went away once")
    # Which transaction applied it: the batch's, shared by the events applied together.
    transaction = session.info.setdefault("transaction", next(transactions))
    await session.execute(insert(effects).values(event_id=event.event_id, label=event.label, transaction=transaction,
                                                 position=next(positions)))


@pytest.fixture
async def deps(databases):
    engine = create_engine(await databases.create("kit"))
    async with engine.begin() as connection:
        await connection.run_sync(create_messaging_tables)
        await connection.run_sync(effects.metadata.create_all)
    flaky_attempts.clear()
    yield Deps(sessionmaker(engine))
    await engine.dispose()


async def publish(jetstream, labels: list[str]) -> None:
    for label in labels:
        event = ProbeHappenedV1(label=label)
        await jetstream.publish(event.subject, event.model_dump_json().encode(),
                                headers={"Nats-Msg-Id": str(event.event_id)})


async def all_acked(jetstream) -> bool:
    info = await jetstream.consumer_info("NOTIFY", "kit-batches")
    return info.num_pending == 0 and info.num_ack_pending == 0


async def until(predicate, timeout_s: float = 60) -> None:
    for _ in range(int(timeout_s / 0.05)):  # generous: CI machines are slow and shared
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def consumed(deps: Deps, jetstream, nats_url: str, labels: list[str], **subscription) -> list[tuple[str, int]]:
    """``labels`` published while the consumer was away, then consumed: (label, transaction) of each effect
    committed, in the order they were applied."""
    await publish(jetstream, labels)
    bus = Bus("kit", nats_url)
    bus.subscribe(Subscription("kit-batches", ProbeHappenedV1, partial(record, deps=deps),
                               nak_delays_s=(0.05,), **subscription))
    await bus.start()
    try:
        await until(lambda: all_acked(jetstream))
    finally:
        await bus.stop()
    async with deps.sessions() as session:
        return [(row.label, row.transaction) for row in await session.execute(
            select(effects.c.label, effects.c.transaction).order_by(effects.c.position))]


async def test_a_backlog_is_applied_in_stream_order_in_a_few_transactions(deps, jetstream, nats_url):
    labels = [str(i) for i in range(250)]
    rows = await consumed(deps, jetstream, nats_url, labels)

    assert [label for label, _ in rows] == labels  # each once, in stream order
    assert len({transaction for _, transaction in rows}) <= 10  # batches of up to 100, not one commit per event


async def test_one_bad_event_never_blocks_nor_half_applies_its_batch(deps, jetstream, nats_url):
    labels = [f"a{i}" for i in range(20)] + ["poison"] + [f"b{i}" for i in range(20)] + ["flaky"] + ["c0"]
    rows = await consumed(deps, jetstream, nats_url, labels)

    applied = [label for label, _ in rows]
    # Each once, the poison never, the others in stream order; the flaky one failed once, then was applied alone
    # (retried after its backoff, so maybe after the next).
    good = [label for label in labels if label not in ("poison", "flaky")]
    assert [label for label in applied if label != "flaky"] == good
    assert applied.count("flaky") == 1 and flaky_attempts == ["flaky"]
    assert (await jetstream.stream_info(DEADLETTER.name)).state.messages == 1  # the poison, terminated at once


async def test_the_events_waiting_are_taken_without_awaiting_each(jetstream, monkeypatch):
    """What waits behind the first event is taken from the subscription's queue as it comes: a message is awaited
    only while none has come. nats-py's ``fetch`` awaited each one (two tasks, a few turns of the event loop per
    event): with a service's loop busy (its writers, its relay), taking 50 waiting events took the whole 200 ms
    allowed, and at 500 events/s the consumer fell behind (issue 19 item 3)."""
    await publish(jetstream, [str(i) for i in range(100)])
    pull = await jetstream.pull_subscribe(ProbeHappenedV1.subject, durable="kit-waiting", stream="NOTIFY")
    [first] = await pull.fetch(1, timeout=30)
    pending = first.metadata.num_pending
    awaited = []
    next_msg = type(pull._sub).next_msg

    async def counted(self, timeout=1.0):
        awaited.append(timeout)
        return await next_msg(self, timeout)

    monkeypatch.setattr(type(pull._sub), "next_msg", counted)
    monkeypatch.setattr(consumers, "WAITING_TIMEOUT_S", 30.0)  # generous: this counts awaits, not time
    taken = await consumers.take_waiting(Subscription("kit-waiting", ProbeHappenedV1, record), pull,
                                         SimpleNamespace(raw_message=first))

    assert pending == 99 and [d.event.label for d in taken] == [str(i) for i in range(1, 100)]  # in stream order
    assert len(awaited) < 20  # the messages come in a few reads of the socket, not one await per event
