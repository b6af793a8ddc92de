"""One service process: NATS connection, RPC handlers, event consumers, outbox relay and health endpoints.

Each service's ``bootstrap.py`` builds a ``Service``, registers its handlers and calls ``run()``.
"""
from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import text

from contracts.base import RpcReply, RpcRequest
from contracts.identity import GetJwksV1, SessionsRevokedV1
from servicekit.auth import TokenVerifier
from servicekit.consumers import ConsumerGroup, Subscription
from servicekit.db import create_engine, sessionmaker
from servicekit.health import embedded_server, health_app
from servicekit.logging import configure_logging
from servicekit.outbox import Outbox
from servicekit.relay import OutboxRelay
from servicekit.rpc import RpcClient, RpcContext, RpcServer
from servicekit.settings import ServiceSettings
from servicekit.streams import ensure_streams
from servicekit.telemetry import configure_tracing

log = structlog.get_logger("servicekit.app")
# Longer than an access token lives: older revocations concern tokens that have expired anyway.
REVOCATION_LOOKBACK = timedelta(minutes=20)


async def connect_nats(url: str, name: str) -> NatsClient:
    """Waits for NATS at start-up (it may come up after us), then reconnects forever."""
    delay = 0.2
    while True:
        try:
            return await nats.connect(
                url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=2
            )
        except Exception as exc:
            log.warning("nats_connect_failed", url=url, error=str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)


class Service:
    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name = name
        self.settings = settings
        self.engine = create_engine(settings.resolved_database_url(name))
        self.sessions = sessionmaker(self.engine)
        self.outbox = Outbox()
        self.nc: NatsClient | None = None
        self.js: JetStreamContext | None = None
        self.rpc: RpcClient | None = None
        self.verifier = TokenVerifier(self._fetch_jwks)
        self.follow_revocations = True
        self._handlers: list[tuple[type[RpcRequest], Callable[[Any, RpcContext], Awaitable[RpcReply]]]] = []
        self._subscriptions: list[Subscription] = []
        self._background: list[tuple[Callable[[], Awaitable[None]], str]] = []
        self._tasks: list[asyncio.Task] = []
        self._stopping = asyncio.Event()

    # --- wiring -------------------------------------------------------------------------------------
    def handle(self, request_type: type[RpcRequest], handler: Callable[[Any, RpcContext], Awaitable[RpcReply]]) -> None:
        self._handlers.append((request_type, handler))

    def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)

    async def _follow_revocations(self) -> None:
        """Replays recent session revocations, then follows new ones, before serving any request."""
        revocations = self.verifier.revocations

        async def on_revoked(msg) -> None:
            event = SessionsRevokedV1.model_validate_json(msg.data)
            revocations.add(event.account_id, event.session_id, event.revoked_at.timestamp())

        start = datetime.now(UTC) - REVOCATION_LOOKBACK
        self._revocations_sub = await self.js.subscribe(
            SessionsRevokedV1.subject, cb=on_revoked, ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=start),
        )

    async def _fetch_jwks(self) -> list[dict]:
        assert self.rpc is not None
        return (await self.rpc.call(GetJwksV1())).keys

    # --- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        configure_logging(self.name, self.settings.log_level)
        configure_tracing(self.name, self.settings.trace_file)
        self.nc = await connect_nats(self.settings.nats_url, self.name)
        self.js = self.nc.jetstream()
        await ensure_streams(self.js)
        self.rpc = RpcClient(self.nc, timeout_s=self.settings.rpc_timeout_s)
        if self.follow_revocations:
            await self._follow_revocations()
        self.rpc_server = RpcServer(self.nc, self.name)
        for request_type, handler in self._handlers:
            await self.rpc_server.serve(request_type, handler)
        self.consumers = ConsumerGroup(self.js)
        for subscription in self._subscriptions:
            await self.consumers.start(subscription)
        self.relay = OutboxRelay(self.name, self.sessions, self.js, self.outbox)
        self._tasks.append(asyncio.create_task(self.relay.run_forever(), name=f"{self.name}-relay"))
        for work, name in self._background:
            self._tasks.append(asyncio.create_task(work(), name=name))
        if self.settings.health_port:
            server = embedded_server(
                health_app(self.name, {"nats": self._nats_ready, "database": self._database_ready}),
                self.settings.health_host,
                self.settings.health_port,
            )
            self._health_server = server
            self._tasks.append(asyncio.create_task(server._serve(), name=f"{self.name}-health"))
        log.info("service_started", rpc=[r.subject for r, _ in self._handlers],
                 consumers=[s.durable for s in self._subscriptions])

    def add_task(self, work: Callable[[], Awaitable[None]], name: str) -> None:
        """Background work of the service (a sender loop, a scheduler), started with it, cancelled on stop."""
        self._background.append((work, name))

    async def _nats_ready(self) -> bool:
        return bool(self.nc and self.nc.is_connected)

    async def _database_ready(self) -> bool:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def stop(self) -> None:
        if getattr(self, "_health_server", None):
            self._health_server.should_exit = True
        if getattr(self, "rpc_server", None):
            await self.rpc_server.stop()
        if getattr(self, "consumers", None):
            await self.consumers.stop()
        if getattr(self, "_revocations_sub", None):
            await self._revocations_sub.unsubscribe()
        for task in self._tasks:
            if task.get_name().endswith("-health"):
                continue
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.drain()
        await self.engine.dispose()
        log.info("service_stopped")

    async def serve_until_signalled(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stopping.set)
        await self.start()
        await self._stopping.wait()
        await self.stop()

    def run(self) -> None:
        asyncio.run(self.serve_until_signalled())
