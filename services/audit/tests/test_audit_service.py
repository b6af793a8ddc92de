"""The audit service on a real NATS server and database (SQLite and PostgreSQL): every owner's audit events become
lines of one chain, a redelivered event is appended once, and two replicas appending at once never fork it."""
from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from audit.adapters.orm import AuditChain, AuditLine
from audit.handlers.verify_chain import verify_database
from contracts.audit import IdentityAuditRecordedV1, ImportAuditRecordedV1, NotebookAuditRecordedV1
from servicekit.db import create_engine, sessionmaker
from servicekit.topology import SERVICES_BY_NAME
from testkit.harness import service_process

KINDS = (NotebookAuditRecordedV1, IdentityAuditRecordedV1, ImportAuditRecordedV1)


async def lines_of(url: str) -> list[AuditLine]:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            return list((await session.execute(select(AuditLine).order_by(AuditLine.seq))).scalars())
    finally:
        await engine.dispose()


async def wait_for_lines(url: str, count: int, timeout_s: float = 30) -> list[AuditLine]:
    for _ in range(int(timeout_s / 0.1)):
        lines = await lines_of(url)
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(lines)} lines after {timeout_s}s, {count} expected")


def event(kind, deployment_id: uuid.UUID, n: int):
    return kind(deployment_id=deployment_id, actor_account_id=uuid.uuid4(), actor_role="professional",
                action="notebook.read", target_type="notebook", target_id=str(n), notebook_id=uuid.uuid4(),
                details={"n": str(n)})


async def test_events_of_every_owner_are_chained_once_even_when_redelivered_and_appended_by_two_replicas(
        nats_url, jetstream, databases, forkserver, tmp_path):
    url = await databases.create("audit", SERVICES_BY_NAME["audit"].migrations_dir)
    common = {"NATS_URL": nats_url, "CARNET_ENV": "test"}
    for i in range(2):
        (tmp_path / str(i)).mkdir()  # each replica's log
    replicas = [forkserver.start(service_process("audit", common, url, tmp_path / str(i))) for i in range(2)]
    try:
        territory = uuid.uuid4()
        events = [event(KINDS[n % 3], territory, n) for n in range(60)]
        # All at once, on three subjects: each replica's three consumers append concurrently.
        await asyncio.gather(*(jetstream.publish(e.subject, e.model_dump_json().encode(),
                                                 headers={"Nats-Msg-Id": str(e.event_id)}) for e in events))
        # The same events again, past the stream's duplicate window (another message id): a redelivery.
        for e in events[:10]:
            await jetstream.publish(e.subject, e.model_dump_json().encode(),
                                    headers={"Nats-Msg-Id": f"again-{e.event_id}"})
        lines = await wait_for_lines(url, 60)
        await asyncio.sleep(1)  # the redelivered ones had time to be (wrongly) appended
        lines = await lines_of(url)

        assert len(lines) == 60
        assert [line.seq for line in lines] == list(range(1, 61))
        assert {line.event_id for line in lines} == {e.event_id for e in events}
        assert all(line.prev_hash == before.hash for before, line in zip(lines, lines[1:]))  # one chain, no fork
        assert {line.deployment_id for line in lines} == {territory}
        verdict = await verify_database(url)
        assert verdict.intact and verdict.checked == 60
        engine = create_engine(url)
        try:
            async with sessionmaker(engine)() as session:
                chain = await session.scalar(select(AuditChain))
                assert (chain.head_seq, chain.head_hash) == (60, lines[-1].hash)
                assert await session.scalar(select(func.count()).select_from(AuditLine)) == 60
        finally:
            await engine.dispose()
    finally:
        for replica in replicas:
            replica.stop()
