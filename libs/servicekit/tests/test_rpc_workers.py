"""A replica answers many requests at once, one slow request never holds the others (of its subject or another's),
and how many run at once is bounded for the whole service: its RPCs share one pool of workers rather than one pool
per RPC subscriber (FastStream's ``max_workers``: a task group, a memory stream and a semaphore for each of the
notebook's ~86 RPCs, 1.6 MB of its idle memory; issue 19 item 4)."""
from __future__ import annotations

import asyncio
from typing import ClassVar

import pytest
from faststream._internal.endpoint.subscriber.mixins import ConcurrentMixin

from contracts.base import RpcReply, RpcRequest
from servicekit.bus import Bus

pytestmark = pytest.mark.integration


class WaitReply(RpcReply):
    said: str


class WaitV1(RpcRequest):
    """Test-only requests, deliberately left out of the contracts registry."""

    subject: ClassVar[str] = "rpc.probe.wait.v1"
    reply_model: ClassVar = WaitReply
    say: str


class OtherWaitV1(WaitV1):
    subject: ClassVar[str] = "rpc.probe.other_wait.v1"


async def serving(nats_url: str, workers: int, released: asyncio.Event, started: list[str]) -> Bus:
    async def handler(request: WaitV1, _context) -> WaitReply:
        started.append(request.say)
        await released.wait()
        return WaitReply(said=request.say)

    server = Bus("probe", nats_url, rpc_workers=workers)
    server.handle(WaitV1, handler)
    server.handle(OtherWaitV1, handler)
    await server.start()
    return server


async def until_started(started: list[str], count: int) -> None:
    for _ in range(200):
        if len(started) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} handlers never ran at once: {started}")


async def test_requests_of_one_subject_and_of_others_are_handled_at_once(nats_url):
    released, started = asyncio.Event(), []
    server = await serving(nats_url, 8, released, started)
    try:
        calls = [asyncio.create_task(server.client.call(request_type(say=str(n))))
                 for n, request_type in enumerate([WaitV1, WaitV1, WaitV1, OtherWaitV1])]
        await until_started(started, 4)
        released.set()
        assert sorted(reply.said for reply in await asyncio.gather(*calls)) == ["0", "1", "2", "3"]
        # One pool for the service, none of FastStream's per subscriber.
        assert not any(isinstance(subscriber, ConcurrentMixin) for subscriber in server._rpc.subscribers)
    finally:
        await server.stop()


async def test_the_service_runs_at_most_its_workers_at_once_all_subjects_together(nats_url):
    released, started = asyncio.Event(), []
    server = await serving(nats_url, 2, released, started)
    try:
        calls = [asyncio.create_task(server.client.call(request_type(say=str(n))))
                 for n, request_type in enumerate([WaitV1, OtherWaitV1, WaitV1])]
        await until_started(started, 2)
        await asyncio.sleep(0.2)
        assert len(started) == 2  # the third waits for a worker
        released.set()
        assert sorted(reply.said for reply in await asyncio.gather(*calls)) == ["0", "1", "2"]
    finally:
        await server.stop()
