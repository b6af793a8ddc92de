"""What the relay and the consumers show: backlog gauges, consumer lag, and the trace carried to the stream.

Real nats-server, SQLite and PostgreSQL.
"""
from __future__ import annotations

import asyncio
import uuid
from typing import ClassVar

import nats
import pytest
import structlog
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NoStreamResponseError
from opentelemetry import trace
from prometheus_client import REGISTRY

from contracts.base import IntegrationEvent
from servicekit import telemetry
from servicekit.db import create_engine, sessionmaker
from servicekit.messaging import create_messaging_tables
from servicekit.metrics import watch_consumer_lag
from servicekit.outbox import Outbox
from servicekit.relay import OutboxRelay

pytestmark = pytest.mark.integration


class ObservedV1(IntegrationEvent):
    """A test-only event, left out of the contracts registry."""

    subject: ClassVar[str] = "notify.observed.happened.v1"


class StreamlessV1(IntegrationEvent):
    """An event no stream takes: JetStream answers its publish with « no responders »."""

    subject: ClassVar[str] = "nowhere.observed.happened.v1"


@pytest.fixture
async def sessions(databases):
    engine = create_engine(await databases.create("kit"))
    async with engine.begin() as connection:
        await connection.run_sync(create_messaging_tables)
    yield sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def service() -> str:
    """A label of its own per test: gauges live for the whole test process."""
    return f"kit-{uuid.uuid4().hex[:8]}"


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def write(sessions, outbox: Outbox, count: int) -> None:
    async with sessions() as session, session.begin():
        for _ in range(count):
            await outbox.add(session, ObservedV1())


async def eventually(predicate, timeout_s: float = 10) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_backlog_gauges_count_pending_rows_and_age_the_oldest(sessions, jetstream, service):
    outbox = Outbox()
    relay = OutboxRelay(service, sessions, jetstream, outbox)
    await relay.measure_backlog()
    assert gauge("carnet_outbox_backlog", service=service) == 0
    assert gauge("carnet_outbox_oldest_age_seconds", service=service) == 0

    await write(sessions, outbox, 3)
    await asyncio.sleep(0.3)
    await relay.measure_backlog()
    assert gauge("carnet_outbox_backlog", service=service) == 3
    assert 0.3 <= gauge("carnet_outbox_oldest_age_seconds", service=service) < 30

    assert await relay.publish_pending() == 3
    await relay.measure_backlog()
    assert gauge("carnet_outbox_backlog", service=service) == 0
    assert gauge("carnet_outbox_oldest_age_seconds", service=service) == 0
    assert gauge("carnet_outbox_published_total", service=service) == 3


async def test_a_relay_that_cannot_reach_nats_reports_a_growing_backlog(sessions, nats_url, service):
    closed = await nats.connect(nats_url)
    await closed.close()  # a real client, gone: every publish fails as when NATS is away
    outbox = Outbox()
    await write(sessions, outbox, 2)
    running = asyncio.create_task(OutboxRelay(service, sessions, closed.jetstream(), outbox).run_forever())
    try:
        await eventually(lambda: gauge("carnet_outbox_backlog", service=service) == 2)
        first_age = gauge("carnet_outbox_oldest_age_seconds", service=service)
        await eventually(lambda: gauge("carnet_outbox_oldest_age_seconds", service=service) > first_age)
    finally:
        running.cancel()


async def test_a_batch_jetstream_refuses_stays_to_publish_and_leaves_no_acknowledgement_waiting(
        sessions, jetstream, service):
    """The batch is sent without waiting, then its acknowledgements awaited together: one refused fails the batch,
    whose rows are published again next round (JetStream drops those it holds), and none of its acknowledgements
    is left waiting in the client."""
    outbox = Outbox()
    async with sessions() as session, session.begin():
        await outbox.add_all(session, [ObservedV1(), StreamlessV1(), ObservedV1()])
    relay = OutboxRelay(service, sessions, jetstream, outbox)
    with pytest.raises(NoStreamResponseError):
        await relay.publish_pending()
    await asyncio.sleep(0)  # a cancelled future's callbacks (which take it out of the table) run at the next turn
    assert jetstream.publish_async_pending() == 0
    await relay.measure_backlog()
    assert gauge("carnet_outbox_backlog", service=service) == 3


async def test_the_published_event_continues_the_trace_and_request_of_the_writing_transaction(
        sessions, jetstream, nats_client):
    writer = trace.SpanContext(trace_id=uuid.uuid4().int, span_id=0x1234, is_remote=False,
                               trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED))
    outbox = Outbox()
    with structlog.contextvars.bound_contextvars(request_id="req-42"), trace.use_span(trace.NonRecordingSpan(writer)):
        await write(sessions, outbox, 1)
    received = await jetstream.pull_subscribe(ObservedV1.subject, durable=None, stream="NOTIFY")
    assert await OutboxRelay("kit", sessions, jetstream, outbox).publish_pending() == 1
    [message] = await received.fetch(1, timeout=5)

    carried = trace.get_current_span(telemetry.extract_context(message.headers)).get_span_context()
    assert carried.trace_id == writer.trace_id  # the relay's span (when tracing is on) sits between the two
    assert message.headers["X-Request-Id"] == "req-42"


async def test_consumer_lag_is_read_per_durable_until_cancelled(jetstream, nats_client):
    durable = f"lag-{uuid.uuid4().hex[:8]}"
    await jetstream.add_consumer("NOTIFY", ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT,
                                                          filter_subject=ObservedV1.subject))
    for _ in range(5):
        await jetstream.publish(ObservedV1.subject, ObservedV1().model_dump_json().encode())
    watching = asyncio.create_task(watch_consumer_lag(jetstream, [("NOTIFY", durable), ("NOTIFY", "absent")], 0.05))
    try:
        await eventually(lambda: gauge("carnet_consumer_lag", consumer=durable) == 5)
        subscription = await jetstream.pull_subscribe_bind(durable, stream="NOTIFY")
        for message in await subscription.fetch(2, timeout=5):
            await message.ack()
        await eventually(lambda: gauge("carnet_consumer_lag", consumer=durable) == 3)  # counted at delivery
        await eventually(lambda: gauge("carnet_consumer_ack_pending", consumer=durable) == 0)
        assert not watching.done()  # a durable that does not exist is skipped, not fatal
    finally:
        watching.cancel()
