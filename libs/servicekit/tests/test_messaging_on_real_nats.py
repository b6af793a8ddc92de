"""Outbox relay, inbox and dead letters against a real nats-server with JetStream, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import json
from typing import ClassVar

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Column, MetaData, Table, Uuid, func, insert, select

from contracts.base import IntegrationEvent
from contracts.streams import DEADLETTER
from servicekit import inbox
from servicekit.bus import Bus
from servicekit.consumers import Subscription
from servicekit.db import create_engine, sessionmaker
from servicekit.deadletters import ReplayFailed, list_dead_letters, replay
from servicekit.messaging import create_messaging_tables, outbox_table
from servicekit.outbox import Outbox
from servicekit.relay import OutboxRelay

pytestmark = [pytest.mark.integration, pytest.mark.faults]


class ProbeHappenedV1(IntegrationEvent):
    """A test-only event, deliberately left out of the contracts registry."""

    subject: ClassVar[str] = "notify.probe.happened.v1"
    label: str = ""


class SecretProbeIssuedV1(IntegrationEvent):
    """A test-only one-time secret, on the ``SECRETS`` stream like login links and SMS codes."""

    subject: ClassVar[str] = "secret.probe.issued.v1"
    code: str = ""


effects = Table("probe_effect", MetaData(), Column("event_id", Uuid, primary_key=True))


@pytest.fixture
async def sessions(databases):
    engine = create_engine(await databases.create("kit"))
    async with engine.begin() as connection:
        await connection.run_sync(create_messaging_tables)
        await connection.run_sync(effects.metadata.create_all)
    yield sessionmaker(engine)
    await engine.dispose()


async def write_events(sessions, outbox: Outbox, count: int) -> list[ProbeHappenedV1]:
    events = [ProbeHappenedV1(label=str(i)) for i in range(count)]
    async with sessions() as session, session.begin():
        for event in events:
            await outbox.add(session, event)
    return events


async def stream_count(js, subject=ProbeHappenedV1.subject) -> int:
    info = await js.stream_info("NOTIFY", subjects_filter=subject)
    return info.state.messages


async def unpublished(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).where(outbox_table.c.published_at.is_(None)))


async def test_outbox_write_wakes_the_relay_only_when_the_transaction_commits(sessions):
    outbox = Outbox()
    async with sessions() as session:
        async with session.begin():
            await outbox.add(session, ProbeHappenedV1())
            assert not outbox.committed.is_set()
        assert outbox.committed.is_set()


async def test_relay_publishes_each_row_once_even_when_it_crashes_between_publish_and_mark(sessions, jetstream):
    outbox = Outbox()
    await write_events(sessions, outbox, 25)

    async def crash(_count: int) -> None:
        raise RuntimeError("relay killed before marking rows published")

    crashing = OutboxRelay("kit", sessions, jetstream, outbox, after_publish=crash)
    with pytest.raises(RuntimeError):
        await crashing.publish_pending()
    assert await stream_count(jetstream) == 25
    assert await unpublished(sessions) == 25  # the mark was rolled back with the crash

    assert await OutboxRelay("kit", sessions, jetstream, outbox).publish_pending() == 25
    assert await stream_count(jetstream) == 25  # republished with the same Nats-Msg-Id: deduplicated
    assert await unpublished(sessions) == 0


async def test_the_service_writes_while_the_relay_waits_for_jetstream(sessions, jetstream):
    """On SQLite the whole database has one write lock: a relay holding it while NATS answers (or does not)
    would stop every writer of the service. Here a business write commits in the middle of a publish."""
    outbox = Outbox()
    await write_events(sessions, outbox, 3)

    async def write_meanwhile(_count: int) -> None:
        async with sessions() as session, session.begin():
            await session.execute(insert(effects).values(event_id=ProbeHappenedV1().event_id))

    relay = OutboxRelay("kit", sessions, jetstream, outbox, after_publish=write_meanwhile)
    assert await asyncio.wait_for(relay.publish_pending(), timeout=10) == 3
    assert await unpublished(sessions) == 0


async def test_a_secret_leaves_the_outbox_once_published_and_other_rows_stay_marked(sessions, jetstream):
    outbox = Outbox()
    async with sessions() as session, session.begin():
        await outbox.add(session, SecretProbeIssuedV1(code="482913"))
        await outbox.add(session, ProbeHappenedV1(label="kept"))
    assert await OutboxRelay("kit", sessions, jetstream, outbox).publish_pending() == 2
    async with sessions() as session:
        rows = (await session.execute(select(outbox_table.c.subject, outbox_table.c.payload,
                                             outbox_table.c.published_at))).all()
    assert [(row.subject, row.published_at is not None) for row in rows] == [(ProbeHappenedV1.subject, True)]
    assert not any(b"482913" in row.payload for row in rows)
    assert (await jetstream.stream_info("SECRETS", subjects_filter=SecretProbeIssuedV1.subject)).state.messages == 1


async def test_a_relay_overtaken_by_another_marks_only_the_rows_it_published(sessions, jetstream):
    """Two replicas' relays may publish the same rows on SQLite (read without a lock, JetStream drops the
    duplicate). When the other relay marks them first, its secrets leave the table, and SQLite numbers the next row
    as the last one deleted (its rowid): the overtaken relay, marking by that number, deleted a secret written
    meanwhile that nobody had published. It happened in CI, identity in two replicas: an invitation never sent."""
    outbox = Outbox()
    async with sessions() as session, session.begin():
        await outbox.add(session, SecretProbeIssuedV1(code="111111"))
    written_meanwhile = SecretProbeIssuedV1(code="222222")

    async def overtaken(_count: int) -> None:
        # On PostgreSQL the other relay skips the locked row: nothing to overtake, the end is the same.
        await OutboxRelay("kit", sessions, jetstream, outbox).publish_pending()
        async with sessions() as session, session.begin():
            await outbox.add(session, written_meanwhile)

    await OutboxRelay("kit", sessions, jetstream, outbox, after_publish=overtaken).publish_pending()
    assert await unpublished(sessions) == 1  # the secret written meanwhile still waits for a relay
    assert await OutboxRelay("kit", sessions, jetstream, outbox).publish_pending() == 1
    info = await jetstream.stream_info("SECRETS", subjects_filter=SecretProbeIssuedV1.subject)
    assert info.state.messages == 2


async def test_a_watched_event_is_known_published_once_the_relay_had_it_acknowledged(sessions, jetstream):
    outbox = Outbox()
    event = ProbeHappenedV1(label="watched")
    async with sessions() as session, session.begin():
        await outbox.add(session, event)
        watched = outbox.watch(event.event_id)
    assert not watched.done()
    await OutboxRelay("kit", sessions, jetstream, outbox).publish_pending()
    assert watched.done() and await stream_count(jetstream) == 1
    await outbox.published(watched)  # at once, not after its timeout
    assert outbox._watched == {}


async def test_two_relays_running_at_once_publish_each_row_exactly_once(sessions, jetstream):
    outbox = Outbox()
    events = await write_events(sessions, outbox, 300)
    relays = [OutboxRelay("kit", sessions, jetstream, outbox, batch_size=40) for _ in range(2)]
    tasks = [asyncio.create_task(relay.run_forever()) for relay in relays]
    try:
        for _ in range(200):
            if await unpublished(sessions) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert await unpublished(sessions) == 0
    assert await stream_count(jetstream) == 300
    # Rows leave in the order they were written.
    subscription = await jetstream.pull_subscribe(ProbeHappenedV1.subject, stream="NOTIFY")
    seen = []
    while len(seen) < 300:
        for msg in await subscription.fetch(100, timeout=2):
            seen.append(json.loads(msg.data)["label"])
            await msg.ack()
    assert sorted(seen, key=int) == [e.label for e in events]


async def collect_until(predicate, timeout_s: float = 45) -> None:
    for _ in range(int(timeout_s / 0.05)):  # generous: CI machines are slow and shared
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached in time")


async def test_a_redelivered_event_has_one_effect(sessions, jetstream, nats_url):
    calls = []

    async def handler(event: ProbeHappenedV1, meta) -> None:
        calls.append(meta.num_delivered)
        async with sessions() as session, session.begin():
            if await inbox.claim(session, "kit-probe", event.event_id):
                await session.execute(insert(effects).values(event_id=event.event_id))
        if meta.num_delivered == 1:
            raise ConnectionError("lost the connection after committing, before the ack")

    consumers = Bus("kit", nats_url)
    consumers.subscribe(Subscription("kit-probe", ProbeHappenedV1, handler, nak_delays_s=(0.05,)))
    await consumers.start()
    try:
        event = ProbeHappenedV1()
        await jetstream.publish(event.subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": str(event.event_id)})
        await collect_until(lambda: _true(len(calls) >= 2))
        info = await jetstream.consumer_info("NOTIFY", "kit-probe")
        await collect_until(lambda: _ack_floor_reached(jetstream, info.delivered.stream_seq))
    finally:
        await consumers.stop()
    assert calls == [1, 2]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(effects)) == 1


async def _true(value: bool) -> bool:
    return value


async def _ack_floor_reached(js, stream_seq: int) -> bool:
    return (await js.consumer_info("NOTIFY", "kit-probe")).ack_floor.stream_seq >= stream_seq


async def dead_letter_count(js) -> int:
    return (await js.stream_info(DEADLETTER.name)).state.messages


async def test_poison_message_lands_in_deadletter_after_max_deliver_while_the_next_is_processed(jetstream, nats_url):
    handled, attempts = [], []

    async def handler(event: ProbeHappenedV1, meta) -> None:
        if event.label == "poison":
            attempts.append(meta.num_delivered)
            raise ValueError("this message can never be handled")
        handled.append(event.label)

    consumers = Bus("kit", nats_url)
    consumers.subscribe(Subscription("kit-probe", ProbeHappenedV1, handler, max_deliver=3, nak_delays_s=(0.05,)))
    await consumers.start()
    try:
        for label in ("poison", "good"):
            event = ProbeHappenedV1(label=label)
            await jetstream.publish(event.subject, event.model_dump_json().encode())
        await collect_until(lambda: dead_letter_count(jetstream))
    finally:
        await consumers.stop()
    assert handled == ["good"]
    assert attempts == [1, 2, 3]
    [letter] = await list_dead_letters(jetstream)
    assert (letter.consumer, letter.stream, letter.reason) == ("kit-probe", "NOTIFY", "max_deliveries")
    assert letter.replayed_at is None


async def test_a_replay_goes_to_the_consumer_that_gave_up_only_and_once(jetstream, nats_url):
    seen: dict[str, list[str]] = {"kit-fussy": [], "kit-easy": []}
    fussy_fixed = False

    async def fussy(event: ProbeHappenedV1, meta) -> None:
        if not fussy_fixed:
            raise ValueError("a bug, fixed later")
        seen["kit-fussy"].append(event.label)

    async def easy(event: ProbeHappenedV1, meta) -> None:
        seen["kit-easy"].append(event.label)

    consumers = Bus("kit", nats_url)
    consumers.subscribe(Subscription("kit-fussy", ProbeHappenedV1, fussy, max_deliver=2, nak_delays_s=(0.05,)))
    consumers.subscribe(Subscription("kit-easy", ProbeHappenedV1, easy))
    await consumers.start()
    try:
        event = ProbeHappenedV1(label="once")
        await jetstream.publish(event.subject, event.model_dump_json().encode())
        await collect_until(lambda: dead_letter_count(jetstream))
        [letter] = await list_dead_letters(jetstream)
        assert letter.consumer == "kit-fussy" and seen == {"kit-fussy": [], "kit-easy": ["once"]}

        with pytest.raises(ReplayFailed, match="n'a pas été rejouée"):  # the bug is still there: nothing marked
            await replay(jetstream, letter)
        assert (await list_dead_letters(jetstream))[0].replayed_at is None

        fussy_fixed = True
        await replay(jetstream, letter)
        assert seen == {"kit-fussy": ["once"], "kit-easy": ["once"]}
        [listed] = await list_dead_letters(jetstream)
        assert listed.replayed_at is not None
        with pytest.raises(ReplayFailed, match="déjà été rejouée"):
            await replay(jetstream, listed)
        await asyncio.sleep(1)  # a republished message would have reached kit-easy by now
        assert seen == {"kit-fussy": ["once"], "kit-easy": ["once"]}
        assert await stream_count(jetstream) == 1  # nothing was published again on the subject
    finally:
        await consumers.stop()


async def test_a_replay_without_a_running_consumer_says_so_and_leaves_the_letter_replayable(jetstream, nats_url):
    async def failing(event, meta) -> None:
        raise ValueError("always")

    consumers = Bus("kit", nats_url)
    consumers.subscribe(Subscription("kit-gone", ProbeHappenedV1, failing, max_deliver=1))
    await consumers.start()
    try:
        await jetstream.publish(ProbeHappenedV1.subject, ProbeHappenedV1(label="x").model_dump_json().encode())
        await collect_until(lambda: dead_letter_count(jetstream))
    finally:
        await consumers.stop()
    [letter] = await list_dead_letters(jetstream)
    with pytest.raises(ReplayFailed, match="aucun consommateur"):
        await replay(jetstream, letter, timeout_s=2)
    assert (await list_dead_letters(jetstream))[0].replayed_at is None


def dead_lettered_metric() -> float:
    return REGISTRY.get_sample_value("carnet_events_dead_lettered_total", {"consumer": "kit-probe"}) or 0


async def test_a_message_that_breaks_its_contract_is_dead_lettered_at_once(jetstream, nats_url):
    handled = []

    async def handler(event, meta) -> None:
        handled.append(event)

    counted_before = dead_lettered_metric()
    consumers = Bus("kit", nats_url)
    consumers.subscribe(Subscription("kit-probe", ProbeHappenedV1, handler, max_deliver=5))
    await consumers.start()
    try:
        await jetstream.publish(ProbeHappenedV1.subject, b'{"event_id": "not-a-uuid"}')
        await jetstream.publish(ProbeHappenedV1.subject, ProbeHappenedV1(label="ok").model_dump_json().encode())

        async def both_done() -> bool:
            # The advisory may land before the next message is handled: wait for both, not the first.
            return bool(handled) and await dead_letter_count(jetstream) > 0

        await collect_until(both_done)
    finally:
        await consumers.stop()
    [letter] = await list_dead_letters(jetstream)
    assert letter.reason == "terminated"
    assert [e.label for e in handled] == ["ok"]
    # Counted once, for the durable that gave up, on the service's /metrics.
    assert dead_lettered_metric() == counted_before + 1
