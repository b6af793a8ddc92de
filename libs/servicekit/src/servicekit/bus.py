"""One FastStream ``NatsBroker`` per process, with what every service adds to it: RPC handlers as queue-group
subscribers, durable JetStream pull consumers, their dead-letter replays, and the RPC client (``broker.request``).

The gateway and the operator's tools use it as a client only; a service registers its handlers before ``start``.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fast_depends.pydantic import PydanticSerializer
from faststream._internal.testing import calls as faststream_calls
from faststream.nats import NatsBroker, NatsRouter
from faststream.security import SASLPlaintext
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus import NatsPrometheusMiddleware
from prometheus_client import REGISTRY
from pydantic import ConfigDict

from contracts.base import RpcReply, RpcRequest
from servicekit.bus_names import (credentials, inbox_prefix, pull_inbox_prefix, redacted, server_urls,
                                  without_credentials)
from servicekit.consumers import (BrokenContracts, ReplayHandler, Subscription, event_endpoint, replay_callback,
                                  replay_event)
from servicekit.deadletters import REPLAY_SUBJECT
from servicekit.rpc import RpcClient, RpcContext, RpcReplies, RpcWorkers, rpc_endpoint

log = structlog.get_logger("servicekit.bus")
# Requests handled at once by one replica, all its RPCs together (servicekit.rpc.RpcWorkers).
RPC_WORKERS = 64
# A service shutting down waits this long for handlers in flight and for NATS, then lets go.
STOP_TIMEOUT_S = 5.0
# FastStream's own serializer (FastDepends' pydantic one, its errors pydantic's), with one change: the model it
# makes of each endpoint's arguments (the request or event, its contract's validator copied inside) is built at the
# endpoint's first message rather than at start. Built at start, the notebook's 130 endpoints cost an idle process
# 1.5 MB of validators for messages it may never get (issue 19 item 4: idle RSS < 90 MB).
ENDPOINT_ARGUMENTS = PydanticSerializer(ConfigDict(arbitrary_types_allowed=True, defer_build=True),
                                        use_fastdepends_errors=False)


class MockOnFirstUse:
    """Stands for the ``MagicMock`` that FastStream's ``CallRecorder`` gives every endpoint and publisher, made at
    its first use: the mock serves FastStream's test broker only (``subscriber.mock``, its Call assertions), yet
    every process built one per endpoint, 1.7 MB of the notebook's idle memory for its ~130 (issue 19 item 4).
    Calls and attributes go to the real mock, made then."""

    __slots__ = ("_mock",)

    def __init__(self) -> None:
        self._mock = None

    def _real(self):
        if self._mock is None:
            from unittest.mock import MagicMock

            self._mock = MagicMock()
        return self._mock

    def __call__(self, *args, **kwargs):
        return self._real()(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._real(), name)


# FastStream 0.7's recorder builds its mock with this module's global name (tests/unit/test_bus_memory.py checks
# that it still does, and that the test broker's recording works through it).
faststream_calls.MagicMock = MockOnFirstUse


class Bus:
    def __init__(self, name: str, nats_url: str, *, rpc_timeout_s: float = 5.0,
                 rpc_workers: int = RPC_WORKERS) -> None:
        self.name = name
        self.nats_url = nats_url
        # On the private bus, replies and pulled messages come to this user's own inbox (servicekit.bus_access);
        # FastStream's pull subscribers take theirs apart from the broker's.
        self._pull_inbox = pull_inbox_prefix(nats_url)
        # The user and password go to the client once, for every server: those a cluster advertises come without.
        user = credentials(nats_url)
        servers = [without_credentials(url) if user else url for url in server_urls(nats_url)]
        self.broker = NatsBroker(
            servers, name=name, inbox_prefix=inbox_prefix(nats_url),
            security=SASLPlaintext(*user) if user else None,
            connect_timeout=2, reconnect_time_wait=1, max_reconnect_attempts=-1,
            graceful_timeout=STOP_TIMEOUT_S, drain_timeout=int(STOP_TIMEOUT_S),
            # W3C trace context in and out of every message, spans on the process's tracer provider (set later,
            # by ``configure_tracing``: OpenTelemetry's proxy tracer follows it), and FastStream's own metrics.
            middlewares=(NatsTelemetryMiddleware(), NatsPrometheusMiddleware(registry=REGISTRY, app_name=name)),
            # FastStream logs every message received and processed: that is for debugging, not for the logs.
            log_level=logging.DEBUG, logger=logging.getLogger(f"faststream.{name}"),
            serializer=ENDPOINT_ARGUMENTS,
        )
        self._rpc = NatsRouter(middlewares=(RpcReplies,))
        self._events = NatsRouter(middlewares=(BrokenContracts,))
        # Included now, filled by ``handle``/``subscribe``: FastStream's TestNatsBroker can test the broker as wired.
        self.broker.include_router(self._rpc)
        self.broker.include_router(self._events)
        self.subscriptions: list[Subscription] = []
        self.rpc_subjects: list[str] = []
        self.client = RpcClient(self.broker, timeout_s=rpc_timeout_s)
        self._rpc_workers = RpcWorkers(rpc_workers)
        # Each durable's dead-letter replays, handled by one function (subscribed at start).
        self.replays: dict[str, ReplayHandler] = {}

    # --- wiring, before start --------------------------------------------------------------------------------
    def handle(self, request_type: type[RpcRequest],
               handler: Callable[[Any, RpcContext], Awaitable[RpcReply]]) -> None:
        subscriber = self._rpc.subscriber(request_type.subject, queue=self.name, title=request_type.subject)
        subscriber(rpc_endpoint(request_type, handler))
        self._rpc_workers.serve(subscriber)
        self.rpc_subjects.append(request_type.subject)

    def subscribe(self, subscription: Subscription) -> None:
        subscriber = self._events.subscriber(**subscription.subscriber_options(), inbox_prefix=self._pull_inbox)
        # The endpoint takes the events waiting behind the one handed over from the same pull subscription.
        subscriber(event_endpoint(subscription, lambda: getattr(subscriber, "subscription", None)))
        self.answer_replays(subscription, replay_event(subscription))
        self.subscriptions.append(subscription)

    def answer_replays(self, subscription: Subscription, handle: ReplayHandler) -> None:
        """``carnet dlq replay`` of ``subscription``'s durable handled by ``handle``: one per durable (two in its
        queue group would each get some of the replays)."""
        self.replays[subscription.durable] = handle

    # --- lifecycle ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.connect()
        await self.broker.start()
        # Dead-letter replays reach the durable that gave up, through one of its replicas (its queue group).
        connection = self.broker.config.connection_state.connection
        for durable, handle in self.replays.items():
            await connection.subscribe(REPLAY_SUBJECT.format(consumer=durable), queue=durable,
                                       cb=replay_callback(durable, lambda: self.stream_context, handle))
        # The server holds every subscription once start returns: a request sent at once (by a test, by a
        # replica's peer) finds its responders instead of "no responders".
        await connection.flush()

    async def connect(self) -> None:
        """Waits for NATS at start-up (it may come up after us): with ``max_reconnect_attempts=-1`` nats-py keeps
        trying the first connection too, then reconnects forever."""
        log.info("nats_connecting", server=redacted(self.nats_url))
        await self.broker.connect()

    async def stop(self) -> None:
        """Stops the subscribers, waits for handlers in flight, drains: at most a few seconds, NATS up or not."""
        try:
            await asyncio.wait_for(self.broker.stop(), timeout=2 * STOP_TIMEOUT_S)
        except Exception as exc:  # NATS away (a reconnect loop never ends by itself) or a drain that hangs
            log.warning("bus_stop_forced", error=repr(exc))
            connection = self.broker.config.connection_state
            if connection:
                await connection.connection.close()

    @property
    def connected(self) -> bool:
        state = self.broker.config.connection_state
        return bool(state) and state.connection.is_connected

    @property
    def stream_context(self):
        """The JetStream context of the broker's connection (streams, the relay, consumer info)."""
        return self.broker.config.connection_state.stream

    async def call(self, request: RpcRequest, **options) -> Any:
        return await self.client.call(request, **options)


@asynccontextmanager
async def client_bus(name: str, nats_url: str, *, rpc_timeout_s: float = 10.0) -> AsyncIterator[Bus]:
    """A started broker without subscribers, for a tool or a test that calls RPCs or reads streams."""
    bus = Bus(name, nats_url, rpc_timeout_s=rpc_timeout_s)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()
