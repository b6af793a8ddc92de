"""Finding or starting the infrastructure a test needs."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit.db import async_url
from servicekit.migrations import upgrade


def infra_required() -> bool:
    return os.environ.get("REQUIRE_INFRA") == "1"


def missing(what: str) -> None:
    """Skips the test, or fails it when CI demands real infrastructure."""
    if infra_required():
        pytest.fail(f"{what} is required (REQUIRE_INFRA=1) but unavailable")
    pytest.skip(f"{what} unavailable")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")


def bundled_nats_server() -> str | None:
    beside_python = Path(sys.executable).parent / "nats-server"
    return str(beside_python) if beside_python.exists() else shutil.which("nats-server")


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


class DatabaseFactory:
    """Fresh databases for one test, on SQLite or PostgreSQL, dropped afterwards."""

    def __init__(self, backend: str, directory: Path, admin_url: str | None) -> None:
        self.backend = backend
        self.directory = directory
        self.admin_url = async_url(admin_url) if admin_url else None
        self._created: list[str] = []

    async def create(self, name: str, migrations_dir: Path | None = None) -> str:
        if self.backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.directory / f'{name}-{uuid.uuid4().hex[:8]}.db'}"
        else:
            database = f"carnet_test_{name}_{uuid.uuid4().hex[:10]}"
            engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            async with engine.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{database}"'))
            await engine.dispose()
            self._created.append(database)
            url = self.admin_url.rsplit("/", 1)[0] + f"/{database}"
        if migrations_dir is not None:
            import asyncio

            await asyncio.to_thread(upgrade, migrations_dir, url)
        return url

    async def drop_all(self) -> None:
        if not self._created:
            return
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            for database in self._created:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        await engine.dispose()
