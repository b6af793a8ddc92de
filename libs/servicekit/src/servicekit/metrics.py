"""The project's own Prometheus metrics, defined once: every service serves them on its health port's ``/metrics``.

FastStream's Prometheus middleware adds the generic message metrics; these are the ones it cannot know: RPC
latency by subject, consumer lag and redeliveries by durable, dead letters, outbox backlog and age, login failures.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import structlog
from prometheus_client import Counter, Gauge, Histogram

log = structlog.get_logger("servicekit.metrics")

RPC_SECONDS = Histogram("carnet_rpc_seconds", "RPC handling time", ["subject"])
RPC_ERRORS = Counter("carnet_rpc_errors_total", "RPC error replies", ["subject", "code"])
EVENTS_HANDLED = Counter("carnet_events_handled_total", "Events handled", ["consumer", "outcome"])
DEAD_LETTERED = Counter("carnet_events_dead_lettered_total", "Events sent to DEADLETTER", ["consumer"])
REDELIVERED = Counter("carnet_events_redelivered_total", "Deliveries of an event after the first (num_delivered > 1)",
                      ["consumer"])
CONSUMER_LAG = Gauge("carnet_consumer_lag", "Messages on the stream not yet delivered to the durable", ["consumer"])
CONSUMER_ACK_PENDING = Gauge("carnet_consumer_ack_pending", "Messages delivered to the durable, not yet acked",
                             ["consumer"])
OUTBOX_PUBLISHED = Counter("carnet_outbox_published_total", "Outbox rows published to JetStream", ["service"])
OUTBOX_BACKLOG = Gauge("carnet_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge("carnet_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when none)",
                          ["service"])
LOGIN_FAILURES = Counter("carnet_login_failures_total", "Refused logins", ["method", "reason"])
HTTP_SECONDS = Histogram("carnet_http_request_seconds", "Gateway HTTP requests by route template",
                         ["method", "route", "status"])


async def watch_consumer_lag(js, durables: Iterable[tuple[str, str]], interval_s: float = 15.0) -> None:
    """Runs until cancelled: every ``interval_s``, reads each ``(stream, durable)``'s consumer info into the lag
    gauges. A consumer that cannot be read (NATS away, not created yet) keeps its last value and is tried again."""
    durables = list(durables)
    while True:
        for stream, durable in durables:
            try:
                info = await js.consumer_info(stream, durable)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("consumer_info_failed", stream=stream, durable=durable, error=str(exc))
                continue
            CONSUMER_LAG.labels(durable).set(info.num_pending or 0)
            CONSUMER_ACK_PENDING.labels(durable).set(info.num_ack_pending or 0)
        await asyncio.sleep(interval_s)


class HttpMetrics:
    """ASGI middleware of the gateway: counts and times each request by route template (never the path, which
    may carry a login token, and would make one series per notebook)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_with_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            HTTP_SECONDS.labels(scope["method"], route, str(status)).observe(time.perf_counter() - started)
