"""Pytest fixtures: ``nats_url``, ``jetstream`` (clean streams), ``databases`` (SQLite and PostgreSQL)."""
from __future__ import annotations

import os

import nats
import pytest

from contracts.streams import ALL_STREAMS
from servicekit.streams import ensure_streams
from testkit.infra import DatabaseFactory, NatsServer, bundled_nats_server, missing
from testkit.system import oidc_issuer, system  # noqa: F401  (fixtures: a running system, an OIDC provider)

MARKERS = {
    "unit": "pure code, no I/O",
    "integration": "one service's code against real NATS and a real database",
    "e2e": "several service processes through the gateway",
    "browser": "real Chromium",
    "faults": "crashes, kills, poison messages",
    "slow": "takes more than a few seconds",
    "service_env": "extra environment of the system's services, by service name (e.g. notify={...})",
}


def pytest_configure(config: pytest.Config) -> None:
    # Settings default to production; tests build them in dev unless a test says otherwise.
    os.environ.setdefault("CARNET_ENV", "dev")
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")


@pytest.fixture(scope="session")
def nats_url():
    if url := os.environ.get("NATS_URL"):
        yield url
        return
    binary = bundled_nats_server()
    if binary is None:
        missing("nats-server")
    server = NatsServer(binary).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def nats_client(nats_url):
    client = await nats.connect(nats_url)
    try:
        yield client
    finally:
        await client.drain()


@pytest.fixture
async def jetstream(nats_client):
    """JetStream with every stream emptied and its consumers gone, so counts start from zero."""
    js = nats_client.jetstream()
    for spec in ALL_STREAMS:
        try:
            await js.delete_stream(spec.name)
        except Exception:
            pass
    await ensure_streams(js)
    return js


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request) -> str:
    if request.param == "postgresql" and not os.environ.get("DATABASE_ADMIN_URL"):
        missing("PostgreSQL (DATABASE_ADMIN_URL)")
    return request.param


@pytest.fixture
async def databases(db_backend, tmp_path):
    factory = DatabaseFactory(db_backend, tmp_path, os.environ.get("DATABASE_ADMIN_URL"))
    try:
        yield factory
    finally:
        await factory.drop_all()
