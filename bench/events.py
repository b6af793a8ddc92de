"""Events between services: propagation from commit to consumer effect (issue 19 item 3), and how fast a consumer
works through a backlog (issue 15 item 8), on SQLite and PostgreSQL, a real nats-server.

Propagation: a writer commits one ``BeneficiaryCreatedV1`` in notebook's outbox at a fixed rate (open loop: the
next commit does not wait for the previous event), notebook's relay publishes it, identity's real consumer opens the
account; the latency of each event runs from the writer's commit to the consumer's commit. Baseline in the same
run: a bare NATS publish → subscriber round trip at the same rate. The writer and the relay share this process (one
event loop, as notebook's request handlers and relay do), identity's consumer runs in a process of its own, as it
does in the system (until 2026-11-30 it shared this one: three services' work on one core); budget p99 < 100 ms at
500 events/s. Also measured at a tenth of that rate: what the path itself costs when the machine keeps up.

Backlog: identity's and directory's consumers of ``BeneficiaryCreatedV1`` (an import's events) handle a backlog of
``BENCH_BACKLOG`` events, one event per transaction (as before batches) and in batches, fresh databases each.

Results in results/events-<backend>.json.
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nats
from benchkit import RESULTS
from sqlalchemy import func, select

from contracts.profiles import BeneficiaryCreatedV1
from servicekit import consumers
from servicekit.startup import freeze_startup_objects
from servicekit.bus import Bus
from servicekit.consumers import Subscription
from servicekit.db import create_engine, sessionmaker
from servicekit.messaging import outbox_table
from servicekit.outbox import Outbox
from servicekit.processes import bundled_nats_server
from servicekit.relay import OutboxRelay
from servicekit.streams import ensure_streams
from servicekit.topology import SERVICES_BY_NAME
from testkit.handlers import build_service
from testkit.infra import DatabaseFactory, NatsServer

RATE = float(os.environ.get("BENCH_EVENTS_RATE", 500))  # events per second
SECONDS = float(os.environ.get("BENCH_EVENTS_SECONDS", 5))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", 3000))
BUDGET_P99_MS = 100
RATE_KEPT = 0.95  # the share of the asked rate the writer must achieve for its p99 to count
DURABLES = ("identity-notebook-beneficiary-created", "directory-beneficiary-created")


def percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    at = lambda q: round(samples[min(len(samples) - 1, int(len(samples) * q))], 2)  # noqa: E731
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(samples[-1], 2), "events": len(samples)}


def beneficiary(deployment_id: uuid.UUID, n: int) -> BeneficiaryCreatedV1:
    return BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment_id, firstname="Hélène",
                                lastname="Çelik", email=f"helene.celik.{uuid.uuid4().hex[:12]}@exemple.fr",
                                phone=f"0612{n % 10**6:06d}")


class Timed:
    """A consumer's handler that notes when each event's transaction committed (its ``together`` too)."""

    def __init__(self, subscription: Subscription, done: dict[uuid.UUID, float]) -> None:
        self.inner, self.done = subscription, done
        if subscription.together is None:
            raise ValueError("an exactly_once consumer was expected")

    async def __call__(self, event, meta) -> None:
        await self.inner.handler(event, meta)
        self.done[event.event_id] = time.perf_counter()

    async def together(self, events) -> None:
        await self.inner.together(events)
        now = time.perf_counter()
        for event in events:
            self.done[event.event_id] = now


def subscription_of(service, durable: str, done: dict, rename: str | None = None) -> Subscription:
    original = next(s for s in service.bus.subscriptions if s.durable == durable)
    return Subscription(rename or durable, original.event_type, Timed(original, done))


async def until(predicate, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the events were not all consumed")
        await asyncio.sleep(0.02)


async def baseline(nats_url: str) -> dict:
    """A bare NATS publish → subscriber round trip, at the same rate and for as many messages."""
    client = await nats.connect(nats_url)
    received: dict[int, float] = {}

    async def on_message(message) -> None:
        received[int(message.data)] = time.perf_counter()

    await client.subscribe("bench.baseline", cb=on_message)
    await client.flush()
    sent: dict[int, float] = {}
    count, started = int(RATE * SECONDS), time.perf_counter()
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
        sent[n] = time.perf_counter()
        await client.publish("bench.baseline", str(n).encode())
    await until(lambda: _true(len(received) == count), 30)
    await client.close()
    return percentiles([(received[n] - sent[n]) * 1000 for n in range(count)])


async def _true(value: bool) -> bool:
    return value


async def propagation(backend: str, factory: DatabaseFactory, nats_url: str, rate: float = RATE) -> dict:
    writer_url = await factory.create("notebook", SERVICES_BY_NAME["notebook"].migrations_dir)
    identity_url = await factory.create("identity", SERVICES_BY_NAME["identity"].migrations_dir)
    writer_engine = create_engine(writer_url)
    writer_sessions, outbox = sessionmaker(writer_engine), Outbox()
    client = await nats.connect(nats_url)
    js = client.jetstream()
    # Identity's consumer in a process of its own, as in the running system; the writer and the relay share this
    # one, as notebook's request handlers and relay do.
    with tempfile.TemporaryDirectory() as folder:
        times = Path(folder) / "done.jsonl"
        consumer = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--consume", identity_url, nats_url, str(times), stdout=asyncio.subprocess.PIPE)
        await asyncio.wait_for(consumer.stdout.readline(), 60)  # "ready": subscribed
        relay = OutboxRelay("notebook", writer_sessions, js, outbox)
        relaying = asyncio.create_task(relay.run_forever())
        deployment_id = uuid.uuid4()

        async def consumed() -> bool:  # every event written published, and acknowledged by the consumer
            async with writer_sessions() as session:
                if await session.scalar(select(func.count()).where(outbox_table.c.published_at.is_(None))):
                    return False
            info = await js.consumer_info("NOTEBOOK", DURABLES[0])
            return info.num_pending == 0 and info.num_ack_pending == 0

        try:
            # Warm-up: connections, statement caches, the consumer's first fetch.
            for n in range(20):
                async with writer_sessions() as session, session.begin():
                    await outbox.add(session, beneficiary(deployment_id, n))
                await until(consumed, 30)
            freeze_startup_objects()  # as a service does once started (servicekit.app.Service)
            committed: dict[str, float] = {}
            writers = asyncio.Semaphore(8)  # fewer than the pool's connections: a slow machine falls behind instead

            async def write(event: BeneficiaryCreatedV1) -> None:
                async with writers, writer_sessions() as session, session.begin():
                    await outbox.add(session, event)
                committed[str(event.event_id)] = time.perf_counter()

            # Each commit its own task at its time, as concurrent requests would write.
            count, started, late, writes = int(rate * SECONDS), time.perf_counter(), 0, []
            for n in range(count):
                wait = started + n / rate - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                else:
                    late += 1
                writes.append(asyncio.create_task(write(beneficiary(deployment_id, 1000 + n))))
            await asyncio.gather(*writes)
            achieved = count / (time.perf_counter() - started)
            await until(consumed, 120)
        finally:
            relaying.cancel()
            await asyncio.gather(relaying, return_exceptions=True)
            consumer.terminate()
            await consumer.wait()
            await client.close()
            await writer_engine.dispose()
        # perf_counter is the machine's monotonic clock: the consumer's times compare with the writer's.
        done = dict(json.loads(line) for line in times.read_text().splitlines())
    latencies = [(done[event_id] - at) * 1000 for event_id, at in committed.items()]
    return {"rate_per_s": rate, "achieved_rate_per_s": round(achieved, 1), "commits_behind_schedule": late,
            **percentiles(latencies)}


async def consume(identity_url: str, nats_url: str, times: Path) -> None:
    """Identity's consumer of ``BeneficiaryCreatedV1``, each event's commit time (``perf_counter``) written to
    ``times``, until SIGTERM."""
    identity = build_service("identity", identity_url)
    done: dict[uuid.UUID, float] = {}
    bus = Bus("identity", nats_url)
    bus.subscribe(subscription_of(identity, DURABLES[0], done))
    await bus.start()
    freeze_startup_objects()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await bus.stop()
    await identity.engine.dispose()
    times.write_text("".join(json.dumps([str(event_id), at]) + "\n" for event_id, at in done.items()))


async def backlog(factory: DatabaseFactory, nats_url: str, batched: bool) -> dict:
    """``BACKLOG`` events waiting on the stream, then identity's and directory's consumers started (new durables,
    fresh databases): events per second of each until every event is acknowledged."""
    consumers.BATCH_SIZE = 100 if batched else 1
    mode = "batches" if batched else "one"
    results = {}
    client = await nats.connect(nats_url)
    js = client.jetstream()
    try:
        for name, durable in zip(("identity", "directory"), DURABLES, strict=True):
            service = build_service(name, await factory.create(name, SERVICES_BY_NAME[name].migrations_dir))
            done: dict[uuid.UUID, float] = {}
            bus = Bus(name, nats_url)
            bus.subscribe(subscription_of(service, durable, done, rename=f"{durable}-{mode}"))
            started = time.perf_counter()
            await bus.start()
            try:
                async def drained() -> bool:
                    info = await js.consumer_info("NOTEBOOK", f"{durable}-{mode}")
                    return info.num_pending == 0 and info.num_ack_pending == 0
                await until(drained, 600)
                seconds = time.perf_counter() - started
            finally:
                await bus.stop()
                await service.engine.dispose()
            results[durable] = {"events": len(done), "seconds": round(seconds, 2),
                                "events_per_s": round(len(done) / seconds, 1)}
    finally:
        await client.close()
        consumers.BATCH_SIZE = 100
    return results


async def measure(backend: str, admin_url: str | None) -> dict:
    server = NatsServer(bundled_nats_server()).start()
    try:
        client = await nats.connect(server.url)
        js = client.jetstream()
        await ensure_streams(js)
        with tempfile.TemporaryDirectory() as folder:
            factory = DatabaseFactory(backend, Path(folder), admin_url)
            try:
                result = {"backend": backend, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                          "baseline_nats_round_trip": await baseline(server.url),
                          "propagation": await propagation(backend, factory, server.url)}
                # Within budget only at the rate asked: a writer that fell behind measured an easier load.
                propagated = result["propagation"]
                propagated["budget_p99_ms"] = BUDGET_P99_MS
                propagated["within_budget"] = (propagated["p99_ms"] < BUDGET_P99_MS
                                               and propagated["achieved_rate_per_s"] >= RATE_KEPT * RATE)
                # A tenth of the rate: what the path costs when the machine keeps up (a shared 2-core one may not).
                result["propagation_at_a_tenth"] = await propagation(backend, factory, server.url, RATE / 10)
                # The backlog: an import's events, published at once.
                await js.purge_stream("NOTEBOOK")
                deployment_id = uuid.uuid4()
                await asyncio.gather(*(js.publish(BeneficiaryCreatedV1.subject, e.model_dump_json().encode(),
                                                  headers={"Nats-Msg-Id": str(e.event_id)})
                                       for e in (beneficiary(deployment_id, n) for n in range(BACKLOG))))
                one = await backlog(factory, server.url, batched=False)
                batches = await backlog(factory, server.url, batched=True)
                result["backlog"] = {
                    durable: {"one_per_transaction": one[durable], "batches": batches[durable],
                              "speed_up": round(batches[durable]["events_per_s"] / one[durable]["events_per_s"], 1)}
                    for durable in DURABLES}
            finally:
                await factory.drop_all()
        await client.close()
    finally:
        server.stop()
    return result


async def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    admin_url = os.environ.get("DATABASE_ADMIN_URL")
    for backend in ["sqlite"] + (["postgresql"] if admin_url else []):
        result = await measure(backend, admin_url)
        (RESULTS / f"events-{backend}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--consume"]:
        asyncio.run(consume(sys.argv[2], sys.argv[3], Path(sys.argv[4])))
    else:
        asyncio.run(main())
