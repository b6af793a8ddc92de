"""The load generators' HTTP client: GETs on kept HTTP/1.1 connections, with as little work as a request needs.

The benchmarks run on the machine they measure. httpx spent 2.75 ms of CPU a notebook page (a quarter of all the
CPU a page cost, every process counted: bench/README.md), taken from the two cores the system under test shares
with it; the single-process baseline, bound by its one core, hardly felt it. A load generator written for the
purpose, as wrk or h2load are, leaves the cores to what is measured: here the request's bytes are written once
for all, and an answer is read by its ``Content-Length`` (or its chunks).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

# What a failed request raises here: refused or reset connections, an answer cut short or not HTTP, a timeout.
HTTP_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, TimeoutError)


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class LeanClient:
    """GETs of one URL with fixed headers. Connections are kept and reused; one is opened whenever all are busy
    (as many as requests in flight), none is closed until ``aclose`` unless the server asks."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout_s: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError(f"http:// only: {url}")
        self.host, self.port, self.timeout_s = parts.hostname, parts.port or 80, timeout_s
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Accept-Encoding: identity",
                 *(f"{name}: {value}" for name, value in (headers or {}).items())]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self) -> Answer:
        async with asyncio.timeout(self.timeout_s):
            reader, writer = self.idle.pop() if self.idle else await asyncio.open_connection(self.host, self.port)
            try:
                writer.write(self.request)
                answer, keep = await read_answer(reader)
            except BaseException:
                writer.close()
                raise
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return answer

    async def aclose(self) -> None:
        while self.idle:
            _, writer = self.idle.pop()
            writer.close()

    async def __aenter__(self) -> LeanClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


async def read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """One HTTP/1.1 answer: its status and body, and whether the connection may serve the next request."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, fields = head.partition(b"\r\n")
    if not status_line.startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1 answer: {status_line[:40]!r}")
    headers = {}
    for field in fields.split(b"\r\n"):
        name, _, value = field.partition(b":")
        if name:
            headers[name.strip().lower()] = value.strip().lower()
    if headers.get(b"transfer-encoding") == b"chunked":
        body = bytearray()
        while size := int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")  # no trailers are sent to us: the empty line ending the chunks
    elif b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    else:  # the body ends with the connection
        return Answer(int(status_line[9:12]), await reader.read()), False
    keep = headers.get(b"connection") != b"close" and not status_line.startswith(b"HTTP/1.0")
    return Answer(int(status_line[9:12]), bytes(body)), keep
