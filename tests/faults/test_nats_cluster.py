"""A 3-node NATS cluster loses a node under load (issue 19 item 6): three bundled nats-server processes on loopback,
with the deployed accounts and permissions, streams R3; the system runs on it, on PostgreSQL, every process with its
own user and the three servers in its URL. While managers create notebooks through the gateway (each writes several
events: the beneficiary and the notebook created, the audit line, the pilotage change), the server leading the
NOTEBOOK stream is killed with SIGKILL. Then: every event the notebook committed is in the stream once (no loss, no
duplicate publish however often the relay retried), each consumer applied each once (directory's territory counts,
the audit trail), and the system kept answering."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import httpx
import pytest
from sqlalchemy import text

from contracts.streams import stream_for_subject
from contracts.profiles import BeneficiaryCreatedV1
from contracts.audit import NotebookAuditRecordedV1
from servicekit.bus import client_bus
from servicekit.db import create_engine
from servicekit.streams import CLUSTER_REPLICAS, ensure_streams
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import gateway_process, service_process, stop_all
from testkit.infra import DatabaseFactory, NatsCluster, NatsServer, bundled_nats_server, missing
from testkit.system import E2E_SERVICES, RunningSystem, bearer
from tests.faults.test_import_kill import manager_of_a_new_territory

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(240)]

WORKERS = 4  # managers' requests in flight at once
LOAD_BEFORE_KILL_S = 3
LOAD_AFTER_KILL_S = 8
NOTEBOOK = stream_for_subject(BeneficiaryCreatedV1.subject).name


def nats_binary() -> str:
    binary = bundled_nats_server()
    if binary is None:
        missing("nats-server")
    return binary


@pytest.fixture
def cluster(tmp_path):
    nats = NatsCluster(nats_binary(), tmp_path / "nats").start()
    yield nats
    nats.stop()


async def test_streams_are_replicated_three_times_in_a_cluster_and_once_on_a_single_server(cluster, tmp_path):
    """A service (its own user, no right to update a stream) creates the streams: R3 on the cluster."""
    async with client_bus("notify", cluster.urls["notify"]) as bus:
        await ensure_streams(bus.stream_context)
        await ensure_streams(bus.stream_context)  # a second replica starting: the same configuration, accepted
        info = await bus.stream_context.stream_info(NOTEBOOK)
        assert info.config.num_replicas == CLUSTER_REPLICAS
        assert len(info.cluster.replicas) == CLUSTER_REPLICAS - 1 and info.cluster.leader
    single = NatsServer(nats_binary()).start()
    try:
        async with client_bus("test", single.url) as bus:
            await ensure_streams(bus.stream_context)
            assert (await bus.stream_context.stream_info(NOTEBOOK)).config.num_replicas == 1
    finally:
        single.stop()


@pytest.fixture
async def cluster_system(cluster, forkserver, database_templates, postgres_admin_url, tmp_path):
    """The system on the cluster, on PostgreSQL: production's database, where the relay holds its batch's rows
    locked while JetStream acknowledges them (through an election, seconds)."""
    if postgres_admin_url is None:
        missing("PostgreSQL (DATABASE_ADMIN_URL, or a Docker engine for testcontainers)")
    factory = DatabaseFactory("postgresql", tmp_path, postgres_admin_url, database_templates)
    trace_file = tmp_path / "spans.jsonl"
    common = {"CARNET_ENV": "dev", "CARNET_TRACE_FILE": str(trace_file), "CARNET_RPC_TIMEOUT_S": "5",
              "CARNET_VAR_DIR": str(tmp_path / "var")}
    processes, urls = {}, {}
    try:
        gateway = gateway_process({**common, "NATS_URL": cluster.urls["gateway"]}, tmp_path)
        for name in E2E_SERVICES:
            urls[name] = await factory.create(name, SERVICES_BY_NAME[name].migrations_dir)
            processes[name] = forkserver.start(service_process(
                name, {**common, "NATS_URL": cluster.urls[name]}, urls[name], tmp_path,
                {"CARNET_PUBLIC_URL": gateway.base_url}), wait=False)
        processes["gateway"] = forkserver.start(gateway, wait=False)
        for process in processes.values():
            await asyncio.to_thread(process.wait_ready, 90)
        yield RunningSystem(gateway.base_url, cluster.urls["operator"], trace_file, tmp_path, processes, urls)
    finally:
        stop_all(list(processes.values()), 10)
        await factory.drop_all()


async def create_notebooks(system: RunningSystem, token: str, stop_at: float, outcomes: list, worker: int) -> None:
    """One manager's browser: notebook after notebook until ``stop_at``; each outcome (worker, start, end, status,
    id or error)."""
    async with system.client() as client:
        client.timeout = httpx.Timeout(10)
        while time.monotonic() < stop_at:
            started = time.monotonic()
            person = {"firstname": "Camille", "lastname": f"Grappe-{uuid.uuid4().hex[:10]}",
                      "date_of_birth": "1980-05-17"}
            try:
                answer = await client.post("/api/v1/notebooks", headers=bearer(token), json={"beneficiary": person})
                outcomes.append((worker, started, time.monotonic(), answer.status_code,
                                 answer.json().get("notebook_id") if answer.status_code == 201 else answer.text))
            except httpx.HTTPError as error:
                outcomes.append((worker, started, time.monotonic(), None, repr(error)))


async def rows(url: str, query: str, **params) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(query), params)).all())
    finally:
        await engine.dispose()


async def drained_snapshot(url: str) -> dict | None:
    """The notebooks and the outbox in one snapshot (a notebook and its events commit together), once every row of
    the outbox is published; None before."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            # One snapshot for both reads (PostgreSQL's default gives each statement its own).
            await connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            outbox = (await connection.execute(text("SELECT event_id, subject, published_at FROM outbox"))).all()
            if any(published_at is None for *_, published_at in outbox):
                return None
            notebooks = (await connection.execute(text("SELECT id, beneficiary_id FROM notebook"))).all()
    finally:
        await engine.dispose()
    return {"outbox": {uuid_text(event_id): subject for event_id, subject, _ in outbox},
            "notebooks": {uuid_text(n): uuid_text(b) for n, b in notebooks}}


def uuid_text(value) -> str:
    """A UUID column as text, whichever way the driver returns it."""
    return str(uuid.UUID(str(value)))


async def until(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while True:
        if result := await condition():
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout_s}s")
        await asyncio.sleep(0.2)


async def message_ids(js, stream: str) -> Counter:
    """Every message of ``stream`` by its ``Nats-Msg-Id`` (the outbox's event id)."""
    state = (await js.stream_info(stream)).state
    ids: Counter = Counter()
    for seq in range(state.first_seq, state.last_seq + 1):
        message = await js.get_msg(stream, seq)
        ids[(message.headers or {}).get("Nats-Msg-Id")] += 1
    return ids


async def test_a_cluster_that_loses_a_node_under_load_loses_no_event_and_applies_none_twice(cluster, cluster_system):
    system = cluster_system
    async with system.client() as client:
        client.timeout = httpx.Timeout(30)
        token = await manager_of_a_new_territory(system, client)

        async with client_bus("operator", cluster.urls["operator"]) as bus:
            js = bus.stream_context
            stream = stream_for_subject(BeneficiaryCreatedV1.subject).name
            assert stream == NOTEBOOK == stream_for_subject(NotebookAuditRecordedV1.subject).name
            assert (await js.stream_info(stream)).config.num_replicas == CLUSTER_REPLICAS

            outcomes: list = []
            start = time.monotonic()
            stop_at = start + LOAD_BEFORE_KILL_S + LOAD_AFTER_KILL_S
            load = [asyncio.create_task(create_notebooks(system, token, stop_at, outcomes, worker))
                    for worker in range(WORKERS)]
            await asyncio.sleep(LOAD_BEFORE_KILL_S)
            # The harshest node to lose: the one the stream's writes go through.
            leader = (await js.stream_info(stream)).cluster.leader
            killed_at = time.monotonic()
            await asyncio.to_thread(cluster.kill, int(leader.rsplit("-", 1)[1]) - 1)
            await asyncio.gather(*load)

            # Still serving: every request was answered (some in French "réessayez" while the clients moved to
            # another server and the stream elected its new leader, none with an error), and notebooks are created
            # after the kill.
            failed = [(round(start - killed_at, 2), round(end - killed_at, 2), status, detail[:100])
                      for _, start, end, status, detail in outcomes if status != 201]
            assert all(status in (201, 504) for *_, status, _ in outcomes), failed
            assert any(start < killed_at and status == 201 for _, start, _, status, _ in outcomes)
            served_after = [o for o in outcomes if o[1] > killed_at and o[3] == 201]
            assert len(served_after) >= WORKERS, failed
            print(f"{len(outcomes)} requests, {len(served_after)} answered 201 after the kill, 504 around it: {failed}")
            answered = {notebook_id for *_, status, notebook_id in outcomes if status == 201}

            # Every event the notebook committed leaves its outbox (the relay retries through the other servers)...
            notebook_db = system.database_urls["notebook"]
            snapshot = await until(lambda: drained_snapshot(notebook_db), 60, "the notebook's outbox holds events")
            outbox = {event_id: subject for event_id, subject in snapshot["outbox"].items()
                      if stream_for_subject(subject).name == stream}
            # ...and is in the stream exactly once: nothing lost, no duplicate publish however often it was retried.
            in_stream = await message_ids(js, stream)
            duplicates = {event_id: n for event_id, n in in_stream.items() if n > 1}
            assert not duplicates, f"published twice: {duplicates}"
            assert set(outbox) <= set(in_stream), f"lost: {len(set(outbox) - set(in_stream))} events"
            # (A request the gateway gave up on may still commit after the snapshot: read the outbox again.)
            later = (await until(lambda: drained_snapshot(notebook_db), 60, "outbox"))["outbox"]
            assert set(in_stream) <= set(later), f"unknown: {set(in_stream) - set(later)}"

        # The notebooks: every one answered exists (a request whose answer was lost may have created one too), each
        # with its events.
        created = snapshot["notebooks"]
        assert answered <= set(created)
        assert len(created) >= len(answered) >= WORKERS
        beneficiary_events = [i for i, subject in outbox.items() if subject == BeneficiaryCreatedV1.subject]
        audit_events = {i for i, subject in outbox.items() if subject == NotebookAuditRecordedV1.subject}
        assert len(beneficiary_events) == len(created)

        # Each consumer applied each event once: directory counts every beneficiary of the territory...
        async def directory_counts_all():
            seen = await rows(system.database_urls["directory"], "SELECT profile_id FROM beneficiary_seen")
            return {str(uuid.UUID(str(p))) for (p,) in seen} >= set(created.values())
        await until(directory_counts_all, 60, "directory has not counted every beneficiary")
        claimed = Counter(str(uuid.UUID(str(e))) for (e,) in await rows(
            system.database_urls["directory"], "SELECT event_id FROM inbox"))
        assert all(claimed[event_id] == 1 for event_id in beneficiary_events)

        # ...and the audit trail holds one line per audit event, none twice.
        async def audited():
            lines = await rows(system.database_urls["audit"], "SELECT event_id FROM audit_line")
            found = Counter(uuid_text(e) for (e,) in lines)  # identity's lines too (the logins)
            return found if audit_events <= set(found) else None
        lines = await until(audited, 60, "the audit trail misses lines")
        assert audit_events <= set(lines) and all(n == 1 for n in lines.values())

        # Still serving: the manager's dashboard answers, with every beneficiary counted.
        tiles = await client.get("/api/v1/dashboard", headers=bearer(token))
        assert tiles.status_code == 200, f"{tiles.text}\n{system.processes['notebook'].logs()[-4000:]}"
        counts = {t["key"]: t["count"] for t in tiles.json()["tiles"]}
        assert counts["beneficiaries"] >= len(created), counts
