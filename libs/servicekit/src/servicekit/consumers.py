"""Durable pull consumers of domain events.

Policy (DESIGN §2.2): a handler error NAKs the message with backoff (never drops it); after
``max_deliver`` deliveries JetStream emits a MAX_DELIVERIES advisory captured by the ``DEADLETTER``
stream. A message that can never succeed (``RejectMessage``, or a payload that does not match its
contract) is terminated at once, which emits a MSG_TERMINATED advisory into ``DEADLETTER`` too.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import trace
from pydantic import ValidationError

from contracts.base import IntegrationEvent
from contracts.streams import stream_for_subject
from servicekit import telemetry
from servicekit.deadletters import REPLAY_SUBJECT
from servicekit.errors import RejectMessage
from servicekit.metrics import DEAD_LETTERED
from servicekit.metrics import EVENTS_HANDLED as HANDLED

log = structlog.get_logger("servicekit.consumers")


@dataclass(frozen=True)
class EventMeta:
    subject: str
    num_delivered: int
    headers: dict[str, str]


EventHandler = Callable[[IntegrationEvent, EventMeta], Awaitable[None]]


@dataclass
class Subscription:
    """``durable`` is ``<consumer-service>-<purpose>``, e.g. ``notify-login-links``."""

    durable: str
    event_type: type[IntegrationEvent]
    handler: EventHandler
    max_deliver: int = 8
    ack_wait_s: float = 30.0
    nak_delays_s: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120)
    batch: int = 32
    _task: asyncio.Task | None = field(default=None, repr=False)
    _pull: Any = field(default=None, repr=False)
    _replays: Any = field(default=None, repr=False)


class ConsumerGroup:
    def __init__(self, js: JetStreamContext) -> None:
        self.js = js
        self.subscriptions: list[Subscription] = []

    async def start(self, subscription: Subscription) -> None:
        subject = subscription.event_type.subject
        pull = await self.js.pull_subscribe(
            subject,
            durable=subscription.durable,
            stream=stream_for_subject(subject).name,
            config=ConsumerConfig(
                durable_name=subscription.durable,
                filter_subject=subject,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=subscription.ack_wait_s,
                max_deliver=subscription.max_deliver,
                max_ack_pending=1000,
            ),
        )
        subscription._pull = pull
        subscription._task = asyncio.create_task(self._pull_loop(subscription, pull), name=subscription.durable)

        async def on_replay(msg: Msg) -> None:
            await msg.respond(json.dumps(await self._replay(subscription, msg)).encode())

        # Core NATS request/reply on the context's own connection (nats-py keeps it as ``_nc``).
        subscription._replays = await self.js._nc.subscribe(
            REPLAY_SUBJECT.format(consumer=subscription.durable), queue=subscription.durable, cb=on_replay)
        self.subscriptions.append(subscription)

    async def _pull_loop(self, subscription: Subscription, pull) -> None:
        while True:
            try:
                messages = await pull.fetch(subscription.batch, timeout=1)
            except (NatsTimeoutError, asyncio.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost: nats-py reconnects, we wait and pull again
                log.warning("consumer_fetch_failed", consumer=subscription.durable, error=str(exc))
                await asyncio.sleep(1)
                continue
            for msg in messages:
                await self._handle(subscription, msg)

    async def _handle(self, subscription: Subscription, msg: Msg) -> None:
        headers = dict(msg.headers or {})
        delivered = msg.metadata.num_delivered
        with (
            structlog.contextvars.bound_contextvars(
                consumer=subscription.durable, subject=msg.subject, request_id=headers.get("X-Request-Id")
            ),
            telemetry.tracer().start_as_current_span(
                f"consume {msg.subject}", context=telemetry.extract_context(headers), kind=trace.SpanKind.CONSUMER
            ),
        ):
            try:
                event = subscription.event_type.model_validate_json(msg.data)
            except ValidationError as exc:
                log.error("event_does_not_match_contract", error=str(exc), delivered=delivered)
                await self._dead_letter(subscription, msg)
                return
            with structlog.contextvars.bound_contextvars(event_id=str(event.event_id)):
                try:
                    await subscription.handler(event, EventMeta(msg.subject, delivered, headers))
                except RejectMessage as exc:
                    log.error("event_rejected", reason=str(exc), delivered=delivered)
                    await self._dead_letter(subscription, msg)
                except Exception as exc:
                    last_try = delivered >= subscription.max_deliver
                    log.warning("event_handler_failed", error=repr(exc), delivered=delivered, last_try=last_try)
                    HANDLED.labels(subscription.durable, "retry").inc()
                    if last_try:
                        DEAD_LETTERED.labels(subscription.durable).inc()
                    delays = subscription.nak_delays_s
                    await msg.nak(delay=delays[min(delivered, len(delays)) - 1] if delays else None)
                else:
                    HANDLED.labels(subscription.durable, "ok").inc()
                    await msg.ack()

    async def _replay(self, subscription: Subscription, request: Msg) -> dict:
        """A dead letter handed back by ``carnet dlq replay``: the original message, handled once, here only."""
        try:
            wanted = json.loads(request.data)
            original = await self.js.get_msg(wanted["stream"], wanted["stream_seq"])
            event = subscription.event_type.model_validate_json(original.data)
            with structlog.contextvars.bound_contextvars(consumer=subscription.durable, subject=original.subject,
                                                         event_id=str(event.event_id)):
                await subscription.handler(event, EventMeta(original.subject, 1, dict(original.headers or {})))
                log.info("dead_letter_replayed", stream_seq=wanted["stream_seq"])
        except Exception as exc:  # said to the operator, who may fix the cause and replay again
            log.warning("dead_letter_replay_failed", consumer=subscription.durable, error=repr(exc))
            return {"error": repr(exc)[:500]}
        HANDLED.labels(subscription.durable, "replayed").inc()
        return {"ok": True}

    @staticmethod
    async def _dead_letter(subscription: Subscription, msg: Msg) -> None:
        DEAD_LETTERED.labels(subscription.durable).inc()
        HANDLED.labels(subscription.durable, "dead_letter").inc()
        await msg.term()

    async def stop(self) -> None:
        for subscription in self.subscriptions:
            if subscription._task:
                subscription._task.cancel()
        await asyncio.gather(*(s._task for s in self.subscriptions if s._task), return_exceptions=True)
        # A pull subscription left open holds the connection's drain until its timeout: close them first.
        for subscription in self.subscriptions:
            if subscription._replays is not None:
                try:
                    await subscription._replays.unsubscribe()
                except Exception as exc:  # already closed with the connection
                    log.debug("unsubscribe_failed", consumer=subscription.durable, error=str(exc))
            if subscription._pull is not None:
                try:
                    await subscription._pull.unsubscribe()
                except Exception as exc:  # already closed with the connection: nothing left to release
                    log.debug("unsubscribe_failed", consumer=subscription.durable, error=str(exc))
