"""A service follows session revocations from the bus; every service's migrations match its models."""
from __future__ import annotations

import asyncio
import importlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine as create_sync_engine, text

from contracts.identity import SessionsRevokedV1
from servicekit.app import Service
from servicekit.auth import Principal
from servicekit.db import create_engine, is_sqlite
from servicekit.messaging import create_messaging_tables
from servicekit.migrations import declared_by_the_service, upgrade
from servicekit.settings import ServiceSettings
from servicekit.topology import SERVICES, SERVICES_BY_NAME
from servicekit.processes import free_port, service_process
from testkit.infra import NatsServer, bundled_nats_server

pytestmark = pytest.mark.integration


def principal(account_id: uuid.UUID, issued_at: datetime, session_id: uuid.UUID | None = None) -> Principal:
    return Principal(account_id, "professional", None, None, (), session_id, (), int(issued_at.timestamp()))


async def test_a_service_refuses_tokens_of_sessions_revoked_before_it_started_and_after(
        nats_url, jetstream, databases):
    url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
    issued = datetime.now(UTC)
    early, late, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # Revoked while the service was down: replayed from the stream at start.
    await jetstream.publish(SessionsRevokedV1.subject, SessionsRevokedV1(
        account_id=early, revoked_at=datetime.now(UTC)).model_dump_json().encode())
    service = Service("notify", ServiceSettings(nats_url=nats_url, database_url=url))
    await service.start()
    try:
        session_id = uuid.uuid4()
        await jetstream.publish(SessionsRevokedV1.subject, SessionsRevokedV1(
            account_id=late, session_id=session_id, revoked_at=datetime.now(UTC)).model_dump_json().encode())
        revocations = service.verifier.revocations
        for _ in range(50):
            if revocations.revoked(principal(late, issued, session_id)):
                break
            await asyncio.sleep(0.1)
        assert revocations.revoked(principal(early, issued))
        assert revocations.revoked(principal(late, issued, session_id))
        assert not revocations.revoked(principal(late, issued, uuid.uuid4()))  # another session of that account
        assert not revocations.revoked(principal(other, issued))
    finally:
        await service.stop()


async def test_a_service_runs_its_stop_work_once_it_serves_no_more_and_before_its_database_closes(
        nats_url, jetstream, databases):
    """What a service holds in memory to write later (the notebook's access log) is written on stop."""
    url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
    service = Service("notify", ServiceSettings(nats_url=nats_url, database_url=url))
    ran = []

    async def write_what_is_held() -> None:
        async with service.sessions() as session:
            ran.append((service.bus.connected, await session.scalar(text("SELECT 1"))))

    service.on_stop.append(write_what_is_held)
    await service.start()
    await service.stop()
    assert ran == [(False, 1)]


@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_migrations_create_exactly_what_the_models_declare(service, tmp_path):
    url = f"sqlite:///{tmp_path / service}.db"
    spec = SERVICES_BY_NAME[service]
    upgrade(spec.migrations_dir, url)
    metadata = importlib.import_module(f"{spec.package}.adapters.orm").metadata
    engine = create_sync_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": declared_by_the_service})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == [], f"{service}: write a migration for {differences}"


async def test_a_service_whose_nats_is_gone_still_stops_within_seconds(databases):
    """nats-py reconnects forever: a service asked to stop while NATS is away must give up on it, not hang (a
    supervisor would otherwise have to kill it, losing its last log lines and its orderly stop)."""
    url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
    server = NatsServer(bundled_nats_server()).start()
    service = Service("notify", ServiceSettings(nats_url=server.url, database_url=url))
    try:
        await service.start()
        server.stop()  # NATS goes away while the service runs: it starts reconnecting
        await asyncio.sleep(1)
        started = time.monotonic()
        await asyncio.wait_for(service.stop(), timeout=30)
        assert time.monotonic() - started < 12
    finally:
        server.stop()


async def test_a_service_still_waiting_for_nats_stops_on_sigterm(databases, tmp_path):
    """At start-up a service waits for NATS (it may come up after it); a SIGTERM meanwhile stops it at once
    instead of being ignored until NATS answers."""
    url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
    process = service_process("notify", {"NATS_URL": f"nats://127.0.0.1:{free_port()}", "CARNET_ENV": "dev"}, url,
                              tmp_path).start(wait=False)
    try:
        for _ in range(300):  # until it tries NATS, in vain
            if "nats_connecting" in process.logs():
                break
            await asyncio.sleep(0.1)
        assert process.process.poll() is None, process.logs()
        process.process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.process.wait, 10) == 0, process.logs()
    finally:
        process.kill()


@pytest.mark.unit
def test_the_objects_of_start_up_are_left_out_of_full_collections():
    import gc

    from servicekit.startup import freeze_startup_objects

    kept = [object() for _ in range(1000)]
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


async def test_a_partial_index_keeps_its_condition_on_either_database(databases):
    """``partial_index`` gives PostgreSQL its condition only when the index is created there."""
    engine = create_engine(await databases.create("partial"))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(create_messaging_tables)
            query = ("SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_unpublished'" if is_sqlite(engine)
                     else "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_unpublished'")
            definition = (await connection.execute(text(query))).scalar_one()
    finally:
        await engine.dispose()
    assert "WHERE" in definition and "published_at IS NULL" in definition, definition


@pytest.mark.unit
@pytest.mark.parametrize("service", [s.name for s in SERVICES])
def test_a_service_on_sqlite_leaves_unloaded_the_libraries_it_does_not_use(service):
    """Each would cost every process its share of the idle memory budget (DESIGN §6: < 90 MB): SQLAlchemy's
    PostgreSQL dialect 2.4 MB (loaded by a declaration or an import), Starlette 1.9 MB (the health routes)."""
    package = SERVICES_BY_NAME[service].package
    probe = (f"import importlib, sys; importlib.import_module('{package}.bootstrap').build(); "
             "print([m for m in ('sqlalchemy.dialects.postgresql', 'starlette') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "CARNET_ENV": "dev"})
    assert result.stdout.strip() == "[]", result.stdout + result.stderr[-2000:]
