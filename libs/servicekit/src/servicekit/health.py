"""The small HTTP side of each service: liveness, readiness and Prometheus metrics, on its own port.

Three fixed GET routes, for probes and Prometheus' scrapes, never for users: served on asyncio's streams with h11
(the HTTP/1.1 parser uvicorn itself uses) rather than by uvicorn, whose package imports its command line and click
with it: 2 MB of every service's idle memory (issue 19 item 4: < 90 MB per service) for a server that answers
three paths. One request per connection; a client that sends nothing, or too much, is let go."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import h11
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = structlog.get_logger("servicekit.health")

ReadinessCheck = Callable[[], Awaitable[bool]]
Answer = tuple[int, str, bytes]
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
READ_TIMEOUT_S = 5.0  # a probe sends its request at once; a silent connection is closed
MAX_REQUEST_BYTES = 16 * 1024  # request line and headers; a GET has no body


def health_answers(service: str, checks: dict[str, ReadinessCheck]) -> Callable[[str], Awaitable[Answer]]:
    """What the health port answers for a path: ``/healthz`` (the process lives), ``/readyz`` (every check
    passes, each named with its result), ``/metrics`` (Prometheus' text); 404 otherwise."""

    async def healthz() -> Answer:
        return 200, JSON, json.dumps({"service": service, "status": "ok"}).encode()

    async def readyz() -> Answer:
        results = {}
        for name, check in checks.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        ready = all(results.values())
        return 200 if ready else 503, JSON, json.dumps({"service": service, "ready": ready, "checks": results}).encode()

    async def metrics() -> Answer:
        return 200, CONTENT_TYPE_LATEST, generate_latest()

    routes = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics}

    async def answer(path: str) -> Answer:
        route = routes.get(path.split("?", 1)[0])
        return await route() if route else (404, TEXT, b"Not Found")

    return answer


class HealthServer:
    """Serves ``health_answers`` on ``host:port`` until ``stop``; ``serve`` is the task to run."""

    def __init__(self, answers: Callable[[str], Awaitable[Answer]], host: str, port: int) -> None:
        self.answers = answers
        self.host = host
        self.port = port
        self.started = asyncio.Event()
        self._stopping = asyncio.Event()

    async def serve(self) -> None:
        server = await asyncio.start_server(self._connection, self.host, self.port)
        if not self.port:  # asked for any free port (tests): the one given
            self.port = server.sockets[0].getsockname()[1]
        self.started.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            await server.wait_closed()

    def stop(self) -> None:
        self._stopping.set()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_REQUEST_BYTES)
        try:
            request = await self._request(connection, reader)
            if request is None:
                return
            if request.method in (b"GET", b"HEAD"):
                status, content_type, body = await self.answers(request.target.decode("ascii", "replace"))
            else:
                status, content_type, body = 405, TEXT, b"Method Not Allowed"
            headers = [("content-type", content_type), ("content-length", str(len(body))), ("connection", "close")]
            if status == 405:
                headers.append(("allow", "GET, HEAD"))
            writer.write(connection.send(h11.Response(status_code=status, headers=headers)))
            if request.method != b"HEAD":
                writer.write(connection.send(h11.Data(data=body)))
            writer.write(connection.send(h11.EndOfMessage()))
            await writer.drain()
        except h11.RemoteProtocolError as exc:  # not HTTP, or headers past the limit
            if connection.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                writer.write(connection.send(h11.Response(status_code=exc.error_status_hint,
                                                          headers=[("content-length", "0"), ("connection", "close")])))
                writer.write(connection.send(h11.EndOfMessage()))
        except (TimeoutError, ConnectionError):
            pass
        except Exception:
            log.exception("health_request_failed")
        finally:
            writer.close()

    @staticmethod
    async def _request(connection: h11.Connection, reader: asyncio.StreamReader) -> h11.Request | None:
        """The request's head, or None when the client went away or stayed silent."""
        while True:
            event = connection.next_event()
            if isinstance(event, h11.Request):
                return event
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(reader.read(4096), READ_TIMEOUT_S)
                connection.receive_data(data)  # b"": the client closed
                continue
            return None  # ConnectionClosed
