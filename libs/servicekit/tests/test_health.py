"""The HTTP side of each service: liveness, readiness with each check's result, Prometheus metrics, served on a
real socket; what is not a probe's request is refused without disturbing the next one."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from servicekit import health
from servicekit.health import HealthServer, health_answers

pytestmark = pytest.mark.unit


async def ready() -> bool:
    return True


async def broken() -> bool:
    raise ConnectionError("nats is gone")


@asynccontextmanager
async def serving(checks) -> AsyncIterator[httpx.AsyncClient]:
    server = HealthServer(health_answers("notify", checks), "127.0.0.1", 0)
    task = asyncio.create_task(server.serve())
    await server.started.wait()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client
    finally:
        server.stop()
        await asyncio.wait_for(task, 5)


async def raw(client: httpx.AsyncClient, data: bytes) -> bytes:
    """What the server answers to these bytes, up to its close."""
    reader, writer = await asyncio.open_connection(client.base_url.host, client.base_url.port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


async def test_a_service_says_it_lives_and_is_ready_when_every_check_passes():
    async with serving({"nats": ready, "database": ready}) as client:
        alive = await client.get("/healthz")
        assert (alive.status_code, alive.json()) == (200, {"service": "notify", "status": "ok"})
        answer = await client.get("/readyz")
        assert answer.status_code == 200
        assert answer.json() == {"service": "notify", "ready": True, "checks": {"nats": True, "database": True}}


async def test_a_failing_or_raising_check_makes_the_service_unready_and_names_the_check():
    async with serving({"nats": broken, "database": ready}) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"nats": False, "database": True}


async def test_metrics_are_prometheus_text_and_any_other_path_or_method_is_refused():
    async with serving({}) as client:
        metrics = await client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        assert "python_info" in metrics.text
        assert (await client.get("/admin")).status_code == 404
        assert (await client.get("/healthz?probe=1")).status_code == 200
        refused = await client.post("/healthz", content=b"x")
        assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
        head = await client.head("/readyz")
        assert head.status_code == 200 and head.content == b""


async def test_garbage_an_oversized_request_or_a_silent_client_is_let_go_and_the_next_probe_answered(monkeypatch):
    monkeypatch.setattr(health, "READ_TIMEOUT_S", 0.2)
    async with serving({}) as client:
        assert (await raw(client, b"\x16\x03\x01 not http\r\n\r\n")).startswith(b"HTTP/1.1 400")
        huge = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2 * health.MAX_REQUEST_BYTES + b"\r\n\r\n"
        assert (await raw(client, huge)).startswith(b"HTTP/1.1 431")
        assert await raw(client, b"GET /healthz HTTP/1.1\r\n") == b""  # never ends its headers: closed, unanswered
        assert (await client.get("/healthz")).status_code == 200
