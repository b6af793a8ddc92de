"""One service process: a FastStream broker (RPC handlers, event consumers), the outbox relay, health endpoints.

Each service's ``bootstrap.py`` builds a ``Service``, registers its handlers and calls ``run()``.
"""
from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream
from sqlalchemy import text

from contracts.base import RpcReply, RpcRequest
from contracts.identity import GetJwksV1, SessionsRevokedV1
from contracts.streams import stream_for_subject
from servicekit.auth import TokenVerifier
from servicekit.bus import Bus
from servicekit.consumers import Subscription
from servicekit.db import create_engine, sessionmaker
from servicekit.health import HealthServer, health_answers
from servicekit.housekeeping import Kept, keep_tidy
from servicekit.logging import configure_logging
from servicekit.metrics import watch_consumer_lag
from servicekit.outbox import Outbox
from servicekit.relay import OutboxRelay
from servicekit.rpc import RpcContext
from servicekit.settings import ServiceSettings
from servicekit.startup import freeze_startup_objects
from servicekit.statistics import keep_statistics
from servicekit.streams import ensure_streams
from servicekit.telemetry import configure_tracing

log = structlog.get_logger("servicekit.app")
# Longer than an access token lives: older revocations concern tokens that have expired anyway.
REVOCATION_LOOKBACK = timedelta(minutes=20)
TASKS_STOP_TIMEOUT_S = 10.0


class Service:
    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name = name
        self.settings = settings
        self.engine = create_engine(settings.resolved_database_url(name))
        self.sessions = sessionmaker(self.engine)
        self.outbox = Outbox()
        self.bus = Bus(name, settings.nats_url, rpc_timeout_s=settings.rpc_timeout_s)
        self.rpc = self.bus.client
        self.verifier = TokenVerifier(self._fetch_jwks)
        self.follow_revocations = True
        self.kept: tuple[Kept, ...] = ()  # what the service keeps for a fixed time (servicekit.housekeeping)
        self._background: list[tuple[Callable[[], Awaitable[None]], str]] = []
        # Run on stop once no request is served any more, before the database closes (writes held in memory).
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self._tasks: list[asyncio.Task] = []
        self._stopping = asyncio.Event()
        self.stopped = False

    # --- wiring -------------------------------------------------------------------------------------
    def handle(self, request_type: type[RpcRequest], handler: Callable[[Any, RpcContext], Awaitable[RpcReply]]) -> None:
        self.bus.handle(request_type, handler)

    def subscribe(self, subscription: Subscription) -> None:
        self.bus.subscribe(subscription)

    def _follow_revocations(self) -> None:
        """Replays recent session revocations, then follows new ones, before serving any request."""
        revocations = self.verifier.revocations

        async def on_revoked(event: SessionsRevokedV1) -> None:
            revocations.add(event.account_id, event.session_id, event.revoked_at.timestamp())

        start = datetime.now(UTC) - REVOCATION_LOOKBACK
        self.bus.broker.subscriber(
            SessionsRevokedV1.subject, stream=JStream(stream_for_subject(SessionsRevokedV1.subject).name, declare=False),
            ordered_consumer=True, deliver_policy=DeliverPolicy.BY_START_TIME, ack_policy=AckPolicy.MANUAL,
            config=ConsumerConfig(opt_start_time=start), title=f"{self.name}-revocations:{SessionsRevokedV1.subject}",
        )(on_revoked)

    async def _fetch_jwks(self) -> list[dict]:
        return (await self.rpc.call(GetJwksV1())).keys

    # --- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        configure_logging(self.name, self.settings.log_level)
        configure_tracing(self.name, self.settings.trace_file)
        if self.follow_revocations:
            self._follow_revocations()
        await self.bus.connect()
        await ensure_streams(self.bus.stream_context)
        await self.bus.start()
        self.relay = OutboxRelay(self.name, self.sessions, self.bus.stream_context, self.outbox)
        self._tasks.append(asyncio.create_task(self.relay.run_forever(), name=f"{self.name}-relay"))
        self._tasks.append(asyncio.create_task(watch_consumer_lag(
            self.bus.stream_context, [(s.stream, s.durable) for s in self.bus.subscriptions]), name=f"{self.name}-lag"))
        tidy = keep_tidy(self.sessions, self.kept)
        self._tasks.append(asyncio.create_task(tidy(), name=f"{self.name}-housekeeping"))
        if self.engine.dialect.name == "postgresql":
            self._tasks.append(asyncio.create_task(keep_statistics(self.engine)(), name=f"{self.name}-statistics"))
        for work, name in self._background:
            self._tasks.append(asyncio.create_task(work(), name=name))
        if self.settings.health_port:
            checks = {"nats": self._nats_ready, "database": self._database_ready}
            server = HealthServer(health_answers(self.name, checks), self.settings.health_host,
                                  self.settings.health_port)
            self._health_server = server
            self._tasks.append(asyncio.create_task(server.serve(), name=f"{self.name}-health"))
        log.info("service_started", rpc=self.bus.rpc_subjects, consumers=[s.durable for s in self.bus.subscriptions])

    def add_task(self, work: Callable[[], Awaitable[None]], name: str) -> None:
        """Background work of the service (a sender loop, a scheduler), started with it, cancelled on stop."""
        self._background.append((work, name))

    async def _nats_ready(self) -> bool:
        return self.bus.connected

    async def _database_ready(self) -> bool:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def stop(self) -> None:
        if self.stopped:  # once: a test or a signal may ask again
            return
        self.stopped = True
        if getattr(self, "_health_server", None):
            self._health_server.stop()
        for task in self._tasks:
            if task.get_name().endswith("-health"):
                continue
            task.cancel()
        await self.bus.stop()
        for work in self.on_stop:  # bounded too: a database gone must not keep the process from stopping
            try:
                await asyncio.wait_for(work(), TASKS_STOP_TIMEOUT_S)
            except Exception:
                log.exception("service_stop_work_failed", work=getattr(work, "__qualname__", repr(work)))
        # Bounded, like the bus's stop: a task that does not end on its cancellation is named in the log, and the
        # process still stops (CI saw a stop wait past 30 s, without saying which task held it).
        done, left = await asyncio.wait(self._tasks, timeout=TASKS_STOP_TIMEOUT_S) if self._tasks else ((), ())
        for task in done:  # their errors are theirs to log; read here so that asyncio does not warn of them
            if not task.cancelled():
                task.exception()
        if left:
            log.warning("service_tasks_left_running", tasks=sorted(task.get_name() for task in left))
        await self.engine.dispose()
        log.info("service_stopped")

    async def serve_until_signalled(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stopping.set)
        # A signal during start-up (NATS not there yet) stops the service too, instead of waiting for NATS.
        starting = asyncio.create_task(self.start())
        signalled = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        else:
            starting.result()  # a start-up that failed ends the process with its error
            freeze_startup_objects()
            await signalled
        await self.stop()

    def run(self) -> None:
        asyncio.run(self.serve_until_signalled())
