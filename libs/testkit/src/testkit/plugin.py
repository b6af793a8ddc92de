"""Pytest fixtures: ``nats_url``, ``jetstream`` (clean streams), ``databases`` (SQLite and PostgreSQL, copied from
templates migrated once per session)."""
from __future__ import annotations

import asyncio
import os
import warnings

import pytest

from contracts.streams import ALL_STREAMS
from servicekit.antivirus import ClamdProcess, clamd_binary
from servicekit.bus import client_bus
from servicekit.streams import ensure_streams
from testkit.infra import (DatabaseFactory, DatabaseTemplates, NatsServer, PostgresContainer, bundled_nats_server,
                           docker_answers, infra_required, missing)
from testkit.system import forkserver, oidc_issuer, system  # noqa: F401  (fixtures: a running system, an OIDC provider)

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


# What a ``unit`` test may not use: ``-m unit`` runs pure code only, fast and anywhere.
INFRASTRUCTURE_FIXTURES = {"nats_url", "nats_client", "jetstream", "db_backend", "databases", "database_templates",
                           "postgres_admin_url", "system", "forkserver", "oidc_issuer", "browser",
                           "clamd_server", "clamd_socket"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    impure = [f"{item.nodeid} ({', '.join(sorted(INFRASTRUCTURE_FIXTURES & set(item.fixturenames)))})"
              for item in items
              if item.get_closest_marker("unit") and INFRASTRUCTURE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    if impure:
        raise pytest.UsageError("tests marked unit use infrastructure:\n  " + "\n  ".join(impure))


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


@pytest.fixture(scope="session")
def clamd_server(tmp_path_factory):
    """Debian's clamd with our signature file (it detects EICAR only), started once; None where clamd is not
    installed (``make clamav``), which is a failure with REQUIRE_INFRA=1: files are never left unscanned in CI."""
    binary = clamd_binary()
    if binary is None:
        if infra_required():
            pytest.fail("clamd is required (REQUIRE_INFRA=1) but not installed: make clamav")
        yield None
        return
    directory = tmp_path_factory.mktemp("clamd")
    server = ClamdProcess(binary, directory, directory).start(timeout_s=60)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def clamd_socket(clamd_server) -> str:
    """The socket of the session's clamd, for a test about scanning (skipped without clamd, failed in CI)."""
    if clamd_server is None:
        missing("clamd (make clamav)")
    return str(clamd_server.socket_path)


@pytest.fixture
async def nats_client(nats_url):
    """The connection of a FastStream client broker, for tests that speak NATS itself (raw bytes, JetStream)."""
    async with client_bus("test", nats_url) as bus:
        yield bus.broker.connection


@pytest.fixture
async def jetstream(nats_client):
    """JetStream with every stream emptied and its consumers gone, so counts start from zero."""
    js = nats_client.jetstream()
    for spec in ALL_STREAMS:
        try:
            await js.delete_stream(spec.name)
        except Exception:
            pass
    for attempt in range(3):  # nats-server may fail to create a stream's store just after deleting it
        try:
            await ensure_streams(js)
            break
        except Exception:
            if attempt == 2:
                raise
            await asyncio.sleep(0.2)
    return js


@pytest.fixture(scope="session")
def postgres_admin_url() -> str | None:
    """``DATABASE_ADMIN_URL``; else a PostgreSQL container when a Docker engine answers; else none (SQLite only)."""
    if url := os.environ.get("DATABASE_ADMIN_URL"):
        yield url
        return
    if not docker_answers():
        yield None
        return
    container = PostgresContainer()
    try:
        url = container.start()
    except Exception as error:  # noqa: BLE001  (an image that cannot be pulled: PostgreSQL is missing, said once)
        warnings.warn(f"PostgreSQL container did not start: {error}", stacklevel=1)
        yield None
        return
    try:
        yield url
    finally:
        container.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request) -> str:
    if request.param == "postgresql" and request.getfixturevalue("postgres_admin_url") is None:
        missing("PostgreSQL (DATABASE_ADMIN_URL, or a Docker engine for testcontainers)")
    return request.param


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory):
    """The session's migrated databases, each copied for every test that asks for one."""
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.drop_all()


@pytest.fixture
async def databases(db_backend, database_templates, tmp_path, request):
    admin_url = request.getfixturevalue("postgres_admin_url") if db_backend == "postgresql" else None
    factory = DatabaseFactory(db_backend, tmp_path, admin_url, database_templates)
    try:
        yield factory
    finally:
        await factory.drop_all()
