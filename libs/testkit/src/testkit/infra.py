"""Finding or starting the infrastructure a test needs."""
from __future__ import annotations

import asyncio
import os
import queue
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.db import async_url
from servicekit.migrations import upgrade
from servicekit.processes import bundled_nats_server, free_port  # noqa: F401  (re-exported to the tests)


def infra_required() -> bool:
    return os.environ.get("REQUIRE_INFRA") == "1"


def missing(what: str) -> None:
    """Skips the test, or fails it when CI demands real infrastructure."""
    if infra_required():
        pytest.fail(f"{what} is required (REQUIRE_INFRA=1) but unavailable")
    pytest.skip(f"{what} unavailable")


def wait_for_port(port: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")


class NatsServer:
    """A nats-server with JetStream on a free loopback port, data in a temporary folder."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = free_port()
        self.store = Path(tempfile.mkdtemp(prefix="carnet-nats-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        self.process = subprocess.Popen(
            [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.store, ignore_errors=True)


class NatsCluster:
    """Three nats-server processes on loopback as one JetStream cluster, with the deployed accounts and permissions
    (``servicekit.bus_access.prepare_private_cluster``). ``urls[user]`` names every server, so a client reconnects
    to another when its own dies; ``kill`` and ``restart`` one server for fault tests."""

    SIZE = 3

    def __init__(self, binary: str, directory: Path) -> None:
        from servicekit.bus_access import prepare_private_cluster

        self.binary = binary
        self.directory = directory
        self.ports = [free_port() for _ in range(self.SIZE)]
        self.setup = prepare_private_cluster(directory, self.ports, [free_port() for _ in range(self.SIZE)])
        self.urls = self.setup.urls
        self.processes: list[subprocess.Popen | None] = [None] * self.SIZE

    def start(self, timeout_s: float = 30) -> NatsCluster:
        for index in range(self.SIZE):
            self._spawn(index)
        for port in self.ports:
            wait_for_port(port, timeout_s)
        asyncio.run(self.wait_jetstream(timeout_s))
        return self

    def _spawn(self, index: int) -> None:
        with (self.directory / f"nats-{index + 1}.log").open("ab") as log:
            self.processes[index] = subprocess.Popen([self.binary, "-c", str(self.setup.configs[index])],
                                                     stdout=log, stderr=log, env={**os.environ, **self.setup.env})

    async def wait_jetstream(self, timeout_s: float = 30) -> None:
        """Until the cluster has elected its JetStream meta leader: before that, creating a stream fails."""
        import nats

        user = "operator"
        deadline = time.monotonic() + timeout_s
        connection = await nats.connect(self.urls[user].split(","), inbox_prefix=f"_INBOX.{user}",
                                        connect_timeout=2, max_reconnect_attempts=-1)
        try:
            while True:
                try:
                    await connection.jetstream().account_info()
                    return
                except Exception:  # noqa: BLE001  (JetStream not ready: no meta leader yet)
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
        finally:
            await connection.close()

    def kill(self, index: int) -> None:
        """SIGKILL: no goodbye to the others, its last writes maybe not on disk."""
        process = self.processes[index]
        if process and process.poll() is None:
            process.kill()
            process.wait(10)

    def restart(self, index: int, timeout_s: float = 30) -> None:
        self._spawn(index)
        wait_for_port(self.ports[index], timeout_s)

    def stop(self) -> None:
        for process in self.processes:
            if process and process.poll() is None:
                process.terminate()
        for process in self.processes:
            if process:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def docker_answers(timeout_s: float = 2) -> bool:
    """Whether a Docker engine answers, for testcontainers; fast and silent when there is none: without
    ``DOCKER_HOST`` nor the default socket, nothing is even imported."""
    host = os.environ.get("DOCKER_HOST")
    if not host and not Path("/var/run/docker.sock").exists():
        return False
    try:
        import docker

        client = docker.DockerClient(base_url=host or "unix:///var/run/docker.sock", timeout=timeout_s)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001  (no engine, no permission, a remote host down: no Docker for the tests)
        return False


class PostgresContainer:
    """PostgreSQL in a container (testcontainers) when ``DATABASE_ADMIN_URL`` names none and Docker answers."""

    IMAGE = "postgres:16-alpine"

    def __init__(self) -> None:
        from testcontainers.community.postgres import PostgresContainer as Container

        self.container = Container(self.IMAGE, driver=None)

    def start(self) -> str:
        """Starts it and returns its admin URL."""
        self.container.start()
        return self.container.get_connection_url()

    def stop(self) -> None:
        self.container.stop()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def checkpointed(path: Path) -> None:
    """Folds a SQLite database's write-ahead log into its main file, so that a copy of that file alone holds
    everything (the WAL and shared-memory files are not copied)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


class DatabaseTemplates:
    """Migrated once per session for each migrations folder and backend, copied for each test: a copy of a
    SQLite file or ``CREATE DATABASE ... TEMPLATE`` costs milliseconds, running every migration seconds.

    A test's PostgreSQL databases are dropped by a thread while the next test runs: ``DROP DATABASE`` forces a
    checkpoint, which takes seconds once a test has written a few megabytes. The session waits for the last."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.admin_url: str | None = None  # PostgreSQL's, once a template is made there
        self._templates: dict[tuple[str, Path], str] = {}  # (backend, migrations folder) → file or database
        self._drops: queue.Queue[tuple[str, list[str]] | None] = queue.Queue()
        self._dropper = threading.Thread(target=self._drop_in_turn, name="drop-test-databases", daemon=True)
        self._dropper.start()

    def drop_later(self, admin_url: str, databases: list[str]) -> None:
        self._drops.put((admin_url, databases))

    def _drop_in_turn(self) -> None:
        while (batch := self._drops.get()) is not None:
            admin_url, databases = batch
            try:
                asyncio.run(admin_execute(admin_url, *(drop(d) for d in databases)))
            except Exception as error:  # noqa: BLE001  (a leftover database is no test's failure)
                print(f"testkit: could not drop {databases}: {error}", file=sys.stderr)

    async def template(self, backend: str, name: str, migrations_dir: Path, admin_url: str | None = None) -> str:
        """The template of ``migrations_dir`` on ``backend`` (on PostgreSQL, ``admin_url``'s server)."""
        key = (backend, migrations_dir.resolve())
        if backend == "postgresql":
            self.admin_url = admin_url
        if key not in self._templates:
            if backend == "sqlite":
                path = self.directory / f"template-{name}-{uuid.uuid4().hex[:8]}.db"
                await asyncio.to_thread(upgrade, migrations_dir, sqlite_url(path))
                checkpointed(path)
                self._templates[key] = str(path)
            else:
                database = f"carnet_template_{name}_{uuid.uuid4().hex[:10]}"
                await admin_execute(self.admin_url, f'CREATE DATABASE "{database}"')
                try:
                    await asyncio.to_thread(upgrade, migrations_dir, database_url(self.admin_url, database))
                except BaseException:
                    await admin_execute(self.admin_url, drop(database))
                    raise
                self._templates[key] = database
        return self._templates[key]

    def drop_all(self) -> None:
        """At the end of the session: the tests' databases still to drop, then the templates."""
        databases = [name for (backend, _), name in self._templates.items() if backend == "postgresql"]
        if databases:
            self.drop_later(self.admin_url, databases)
        self._templates.clear()
        self._drops.put(None)
        self._dropper.join()


def drop(database: str) -> str:
    return f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'


async def admin_execute(admin_url: str, *statements: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def database_url(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


class DatabaseFactory:
    """Fresh databases for one test, on SQLite or PostgreSQL, dropped afterwards; migrated ones are copies of
    ``templates`` when given."""

    def __init__(self, backend: str, directory: Path, admin_url: str | None,
                 templates: DatabaseTemplates | None = None) -> None:
        self.backend = backend
        self.directory = directory
        self.admin_url = async_url(admin_url) if admin_url else None
        self.templates = templates
        self._created: list[str] = []

    async def create(self, name: str, migrations_dir: Path | None = None) -> str:
        template = None
        if migrations_dir is not None and self.templates is not None:
            template = await self.templates.template(self.backend, name, migrations_dir, self.admin_url)
        if self.backend == "sqlite":
            path = self.directory / f"{name}-{uuid.uuid4().hex[:8]}.db"
            if template:
                shutil.copyfile(template, path)
            url = sqlite_url(path)
        else:
            database = f"carnet_test_{name}_{uuid.uuid4().hex[:10]}"
            copy_of = f' TEMPLATE "{template}"' if template else ""
            await admin_execute(self.admin_url, f'CREATE DATABASE "{database}"{copy_of}')
            self._created.append(database)
            url = database_url(self.admin_url, database)
        if migrations_dir is not None and template is None:
            await asyncio.to_thread(upgrade, migrations_dir, url)
        return url

    async def drop_all(self) -> None:
        if self._created and self.templates is not None:
            self.templates.drop_later(self.admin_url, self._created)
        elif self._created:
            await admin_execute(self.admin_url, *(drop(d) for d in self._created))
        self._created = []
