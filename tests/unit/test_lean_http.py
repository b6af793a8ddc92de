"""The benchmarks' load generator client (bench/lean_http.py) against a server answering as uvicorn may: it reads
each kind of body whole, keeps its connections for the next requests, and opens one more only when all are busy."""
from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

spec = importlib.util.spec_from_file_location("lean_http", Path(__file__).resolve().parents[2] / "bench/lean_http.py")
lean_http = sys.modules["lean_http"] = importlib.util.module_from_spec(spec)  # dataclasses look it up
spec.loader.exec_module(lean_http)

ANSWERS = {
    b"/length": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nH\xc3\xa9l\xc3\xa8ne \xc3\x87",
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n7;x=y\r\n, monde\r\n0\r\n\r\n",
    b"/closing": b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy",
    b"/until-end": b"HTTP/1.1 200 OK\r\n\r\nto the end",
    b"/not-http": b"SSH-2.0-OpenSSH\r\n\r\n",
}


@pytest.fixture
async def server():
    seen = {"connections": 0, "requests": []}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                seen["requests"].append(head)
                path = head.split(b" ", 2)[1]
                await asyncio.sleep(0.05 if path == b"/length" else 0)  # long enough for requests to overlap
                writer.write(ANSWERS[path])
                await writer.drain()
                if path in (b"/closing", b"/until-end"):
                    break
        except asyncio.IncompleteReadError:
            pass  # the client closed its connection
        writer.close()

    listening = await asyncio.start_server(serve, "127.0.0.1", 0)
    seen["url"] = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    yield seen
    listening.close()


async def test_a_kept_connection_serves_the_next_requests(server):
    async with lean_http.LeanClient(server["url"] + "/length", {"Authorization": "Bearer x"}) as client:
        answers = [await client.get() for _ in range(3)]
    assert [(a.status_code, a.text) for a in answers] == [(200, "Hélène Ç")] * 3
    assert server["connections"] == 1
    assert server["requests"][0].startswith(b"GET /length HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nAuthorization: Bearer x\r\n" in server["requests"][0]


async def test_requests_in_flight_each_get_a_connection_then_reuse_them(server):
    async with lean_http.LeanClient(server["url"] + "/length") as client:
        await asyncio.gather(*(client.get() for _ in range(4)))
        await asyncio.gather(*(client.get() for _ in range(4)))
    assert server["connections"] == 4


async def test_chunked_and_connection_delimited_bodies_are_read_whole(server):
    async with lean_http.LeanClient(server["url"] + "/chunked") as client:
        assert (await client.get()).text == "Hello, monde"
        assert (await client.get()).text == "Hello, monde"
    assert server["connections"] == 1
    async with lean_http.LeanClient(server["url"] + "/until-end") as client:
        assert (await client.get()).text == "to the end"
        assert (await client.get()).text == "to the end"
    assert server["connections"] == 3  # the body ends with the connection: not kept


async def test_a_connection_the_server_closes_is_not_reused(server):
    async with lean_http.LeanClient(server["url"] + "/closing") as client:
        answers = [await client.get() for _ in range(2)]
    assert [(a.status_code, a.text) for a in answers] == [(503, "busy")] * 2
    assert server["connections"] == 2


async def test_what_is_not_an_http_answer_or_not_there_fails_as_an_http_error(server):
    async with lean_http.LeanClient(server["url"] + "/not-http") as client:
        with pytest.raises(lean_http.HTTP_ERRORS):
            await client.get()
    async with lean_http.LeanClient("http://127.0.0.1:9/x", timeout_s=5) as client:  # nothing listens on 9
        with pytest.raises(lean_http.HTTP_ERRORS):
            await client.get()
    with pytest.raises(ValueError, match="http:// only"):
        lean_http.LeanClient("https://example.org/")
