"""The object store streamed both ways, on a real nats-server with JetStream: what ``put_stream`` writes nats-py
reads, what nats-py writes ``read_stream`` reads, and an upload over its limit leaves nothing behind."""
from __future__ import annotations

import os

import pytest

from servicekit.bus import client_bus
from servicekit.objects import CHUNK_BYTES, TooLarge, put_stream, read_stream, uploads

pytestmark = pytest.mark.asyncio


async def pieces(data: bytes, size: int = 7000):
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def test_streams_in_and_out_in_the_object_store_layout(nats_url):
    data = os.urandom(3 * CHUNK_BYTES + 12345)
    async with client_bus("test-objects", nats_url) as bus:
        store = await uploads(bus.stream_context)
        info = await put_stream(store, "imports/a.csv", pieces(data), max_bytes=len(data))
        assert (info.size, info.chunks) == (len(data), 4)
        assert (await store.get("imports/a.csv")).data == data
        await store.put("imports/b.csv", data)
        assert b"".join([chunk async for chunk in read_stream(store, "imports/b.csv")]) == data


async def test_an_upload_over_the_limit_leaves_nothing(nats_url):
    async with client_bus("test-objects", nats_url) as bus:
        store = await uploads(bus.stream_context)
        before = (await store.status()).size
        with pytest.raises(TooLarge):
            await put_stream(store, "imports/big.csv", pieces(b"x" * (2 * CHUNK_BYTES)), max_bytes=CHUNK_BYTES + 1)
        assert (await store.status()).size == before
        with pytest.raises(Exception):
            await store.get_info("imports/big.csv")
