"""Durable pull consumers of domain events, on FastStream.

Policy (DESIGN §2.2): a handler error NAKs the message with backoff (never drops it); after ``max_deliver``
deliveries JetStream emits a MAX_DELIVERIES advisory captured by the ``DEADLETTER`` stream. A message that can
never succeed (``RejectMessage``, or a payload that does not match its contract) is terminated at once, which
emits a MSG_TERMINATED advisory into ``DEADLETTER`` too.

Events are handled one after the other, in stream order (a profile updated after it was created). A consumer made
with ``inbox.exactly_once`` is given batches of up to ``BATCH_SIZE`` and applies each in one transaction (one commit
for a hundred events of an import instead of a hundred); should one event of it fail, the batch is undone and its
events handled one by one, each acked, retried or dead-lettered on its own (a redelivery meanwhile, should that
take longer than ``ack_wait``, finds its claim and does nothing). Other consumers fetch one event at a time: a
batch waiting behind a slow effect would outlive its ``ack_wait`` and be delivered again.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import structlog
from faststream import BaseMiddleware
from faststream.exceptions import RejectMessage as Terminate
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsMessage, PullSub
from faststream import Context
from faststream.nats.message import NatsBatchMessage
from nats.aio.msg import Msg
from faststream.nats import AckPolicy as JsAckPolicy
from pydantic import ValidationError

from contracts.base import IntegrationEvent
from contracts.streams import stream_for_subject
from servicekit.deadletters import REPLAY_SUBJECT
from servicekit.errors import RejectMessage
from servicekit.metrics import DEAD_LETTERED, EVENTS_HANDLED, REDELIVERED

log = structlog.get_logger("servicekit.consumers")
BATCH_SIZE = 100  # events fetched at once; a batch never waits to fill up (what is there is handed over)
# The event each durable of this process reads, for ``BrokenContracts`` to tell a broken message of a batch.
EVENT_TYPES: dict[str, type[IntegrationEvent]] = {}


@dataclass(frozen=True)
class EventMeta:
    subject: str
    num_delivered: int
    headers: dict[str, str]


EventHandler = Callable[[IntegrationEvent, EventMeta], Awaitable[None]]
BatchHandler = Callable[[Sequence[IntegrationEvent]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """``durable`` is ``<consumer-service>-<purpose>``, e.g. ``notify-login-links``."""

    durable: str
    event_type: type[IntegrationEvent]
    handler: EventHandler
    max_deliver: int = 8
    ack_wait_s: float = 30.0
    nak_delays_s: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120)

    @property
    def together(self) -> BatchHandler | None:
        """How to apply many events in one transaction, when the handler knows (``inbox.exactly_once`` handlers,
        bound to their deps by ``functools.partial`` in the services' wiring)."""
        handler = self.handler
        if isinstance(handler, partial) and hasattr(handler.func, "together"):
            return partial(handler.func.together, *handler.args, **handler.keywords)
        return None

    @property
    def stream(self) -> str:
        return stream_for_subject(self.event_type.subject).name

    def subscriber_options(self) -> dict:
        """What ``broker.subscriber`` needs to make this a durable pull consumer."""
        subject = self.event_type.subject
        return dict(
            subject=subject,
            stream=JStream(self.stream, declare=False),  # streams come from contracts (``ensure_streams``)
            durable=self.durable,
            pull_sub=PullSub(batch_size=BATCH_SIZE if self.together else 1, timeout=1, batch=True),
            config=ConsumerConfig(
                durable_name=self.durable, filter_subject=subject, ack_policy=JsAckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL, ack_wait=self.ack_wait_s, max_deliver=self.max_deliver,
                max_ack_pending=1000,
            ),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=f"{self.durable}:{subject}",
            description=(self.event_type.__doc__ or "").strip() or None,
        )


def delivery_count(message: Msg) -> int:
    """JetStream's count of deliveries; 1 for a message without JetStream metadata (FastStream's test broker)."""
    try:
        return message.metadata.num_delivered
    except Exception:
        return 1


def event_endpoint(subscription: Subscription):
    """The FastStream handler of one durable, given a batch: each message is acked once handled, NAKed with its
    backoff when the handler fails, terminated at once when the handler says it can never succeed."""
    together = subscription.together
    EVENT_TYPES[subscription.durable] = subscription.event_type

    async def endpoint(events, message):
        received = list(zip(message.raw_message, events, strict=True))
        if together is not None and len(received) > 1 and await handled_together(received):
            return
        for raw, event in received:
            await handle_one(raw, event)

    async def handled_together(received: list[tuple[Msg, Any]]) -> bool:
        with structlog.contextvars.bound_contextvars(consumer=subscription.durable,
                                                     subject=subscription.event_type.subject):
            try:
                await together([event for _, event in received])
            except Exception as exc:  # each event again on its own: the failing one is retried, the others done
                log.info("event_batch_handled_one_by_one", events=len(received), error=repr(exc))
                return False
        for raw, _ in received:
            await raw.ack()
        EVENTS_HANDLED.labels(subscription.durable, "ok").inc(len(received))
        return True

    async def handle_one(raw: Msg, event: IntegrationEvent) -> None:
        delivered = delivery_count(raw)
        if delivered > 1:
            REDELIVERED.labels(subscription.durable).inc()
        headers = dict(raw.headers or {})
        with structlog.contextvars.bound_contextvars(
            consumer=subscription.durable, subject=subscription.event_type.subject, event_id=str(event.event_id),
            request_id=headers.get("X-Request-Id"),
        ):
            try:
                await subscription.handler(event, EventMeta(subscription.event_type.subject, delivered, headers))
            except RejectMessage as exc:
                log.error("event_rejected", reason=str(exc), delivered=delivered)
                dead_lettered(subscription.durable)
                await raw.term()
                return
            except Exception as exc:
                last_try = delivered >= subscription.max_deliver
                log.warning("event_handler_failed", error=repr(exc), delivered=delivered, last_try=last_try)
                EVENTS_HANDLED.labels(subscription.durable, "retry").inc()
                if last_try:
                    DEAD_LETTERED.labels(subscription.durable).inc()
                delays = subscription.nak_delays_s
                await raw.nak(delay=delays[min(delivered, len(delays)) - 1] if delays else None)
                return
        await raw.ack()
        EVENTS_HANDLED.labels(subscription.durable, "ok").inc()

    endpoint.__annotations__ = {"events": list[subscription.event_type], "message": Annotated[NatsBatchMessage, Context("message")],
                                "return": None}
    endpoint.__name__ = endpoint.__qualname__ = subscription.durable.replace("-", "_")
    return endpoint


def dead_lettered(durable: str) -> None:
    DEAD_LETTERED.labels(durable).inc()
    EVENTS_HANDLED.labels(durable, "dead_letter").inc()


class BrokenContracts(BaseMiddleware):
    """A payload that does not match its contract never will: terminated at once (FastStream parses a batch before
    the endpoint runs, so this middleware of the event subscribers sees the error). The other messages of the
    batch are handed back at once, to come again without it."""

    async def consume_scope(self, call_next, msg):
        try:
            return await call_next(msg)
        except ValidationError:
            # The subscriber handling the message (FastStream's context) names its durable in its consumer config.
            subscriber = self.context.get_local("handler_")
            durable = getattr(getattr(subscriber, "config", None), "durable_name", None) or "unknown"
            raws = msg.raw_message if isinstance(msg.raw_message, list) else [msg.raw_message]
            for raw in raws:
                await terminate_or_hand_back(raw, durable)
            raise Terminate() from None


async def terminate_or_hand_back(raw: Msg, durable: str) -> None:
    """A message of a batch FastStream could not parse: terminated if it breaks its contract, else handed back
    (NAK without delay) to come again in a batch without the broken one."""
    try:
        EVENT_TYPES[durable].model_validate_json(raw.data)
    except (KeyError, ValidationError) as exc:
        log.error("event_does_not_match_contract", error=str(exc), subject=raw.subject, consumer=durable)
        dead_lettered(durable)
        await raw.term()
    else:
        await raw.nak()


def replay_endpoint(subscription: Subscription, stream_context: Callable[[], object]):
    """Answers ``carnet dlq replay`` for this durable: the original message, read from its stream, handled once,
    here only."""

    async def endpoint(message):
        try:
            wanted = json.loads(message.body)
            original = await stream_context().get_msg(wanted["stream"], wanted["stream_seq"])
            event = subscription.event_type.model_validate_json(original.data)
            with structlog.contextvars.bound_contextvars(consumer=subscription.durable, subject=original.subject,
                                                         event_id=str(event.event_id)):
                await subscription.handler(event, EventMeta(original.subject, 1, dict(original.headers or {})))
                log.info("dead_letter_replayed", stream_seq=wanted["stream_seq"])
        except Exception as exc:  # said to the operator, who may fix the cause and replay again
            log.warning("dead_letter_replay_failed", consumer=subscription.durable, error=repr(exc))
            return json.dumps({"error": repr(exc)[:500]}).encode()
        EVENTS_HANDLED.labels(subscription.durable, "replayed").inc()
        return json.dumps({"ok": True}).encode()

    endpoint.__annotations__ = {"message": NatsMessage, "return": bytes}
    endpoint.__name__ = endpoint.__qualname__ = f"replay_{subscription.durable.replace('-', '_')}"
    return endpoint


def replay_subject(subscription: Subscription) -> str:
    return REPLAY_SUBJECT.format(consumer=subscription.durable)
