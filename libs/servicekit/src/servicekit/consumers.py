"""Durable pull consumers of domain events, on FastStream.

Policy (DESIGN §2.2): a handler error NAKs the message with backoff (never drops it); after ``max_deliver``
deliveries JetStream emits a MAX_DELIVERIES advisory captured by the ``DEADLETTER`` stream. A message that can
never succeed (``RejectMessage``, or a payload that does not match its contract) is terminated at once, which
emits a MSG_TERMINATED advisory into ``DEADLETTER`` too.

Messages are fetched one at a time so that a consumer sees its events in stream order (a profile updated after it
was created), which FastStream's batches, handled concurrently, would not keep.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from faststream import BaseMiddleware
from faststream.exceptions import NackMessage
from faststream.exceptions import RejectMessage as Terminate
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsMessage, PullSub
from faststream.nats import AckPolicy as JsAckPolicy
from pydantic import ValidationError

from contracts.base import IntegrationEvent
from contracts.streams import stream_for_subject
from servicekit.deadletters import REPLAY_SUBJECT
from servicekit.errors import RejectMessage
from servicekit.metrics import DEAD_LETTERED, EVENTS_HANDLED, REDELIVERED

log = structlog.get_logger("servicekit.consumers")


@dataclass(frozen=True)
class EventMeta:
    subject: str
    num_delivered: int
    headers: dict[str, str]


EventHandler = Callable[[IntegrationEvent, EventMeta], Awaitable[None]]


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
    def stream(self) -> str:
        return stream_for_subject(self.event_type.subject).name

    def subscriber_options(self) -> dict:
        """What ``broker.subscriber`` needs to make this a durable pull consumer."""
        subject = self.event_type.subject
        return dict(
            subject=subject,
            stream=JStream(self.stream, declare=False),  # streams come from contracts (``ensure_streams``)
            durable=self.durable,
            pull_sub=PullSub(batch_size=1, timeout=1),
            config=ConsumerConfig(
                durable_name=self.durable, filter_subject=subject, ack_policy=JsAckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL, ack_wait=self.ack_wait_s, max_deliver=self.max_deliver,
                max_ack_pending=1000,
            ),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=f"{self.durable}:{subject}",
            description=(self.event_type.__doc__ or "").strip() or None,
        )


def delivery_count(message: NatsMessage) -> int:
    """JetStream's count of deliveries; 1 for a message without JetStream metadata (FastStream's test broker)."""
    try:
        return message.raw_message.metadata.num_delivered
    except Exception:
        return 1


def event_endpoint(subscription: Subscription):
    """The FastStream handler of one durable: runs the service's handler, then acks; NAKs with its backoff when
    the handler fails, terminates at once when the handler says the message can never succeed."""

    async def endpoint(event, message):
        delivered = delivery_count(message)
        if delivered > 1:
            REDELIVERED.labels(subscription.durable).inc()
        with structlog.contextvars.bound_contextvars(
            consumer=subscription.durable, subject=subscription.event_type.subject, event_id=str(event.event_id),
            request_id=(message.headers or {}).get("X-Request-Id"),
        ):
            try:
                await subscription.handler(event, EventMeta(subscription.event_type.subject, delivered,
                                                            dict(message.headers or {})))
            except RejectMessage as exc:
                log.error("event_rejected", reason=str(exc), delivered=delivered)
                dead_lettered(subscription.durable)
                raise Terminate() from None
            except Exception as exc:
                last_try = delivered >= subscription.max_deliver
                log.warning("event_handler_failed", error=repr(exc), delivered=delivered, last_try=last_try)
                EVENTS_HANDLED.labels(subscription.durable, "retry").inc()
                if last_try:
                    DEAD_LETTERED.labels(subscription.durable).inc()
                delays = subscription.nak_delays_s
                raise NackMessage(delay=delays[min(delivered, len(delays)) - 1] if delays else None) from None
        EVENTS_HANDLED.labels(subscription.durable, "ok").inc()

    endpoint.__annotations__ = {"event": subscription.event_type, "message": NatsMessage, "return": None}
    endpoint.__name__ = endpoint.__qualname__ = subscription.durable.replace("-", "_")
    return endpoint


def dead_lettered(durable: str) -> None:
    DEAD_LETTERED.labels(durable).inc()
    EVENTS_HANDLED.labels(durable, "dead_letter").inc()


class BrokenContracts(BaseMiddleware):
    """A payload that does not match its contract never will: terminated at once (FastStream parses it before
    the endpoint runs, so this middleware of the event subscribers sees the error)."""

    async def consume_scope(self, call_next, msg):
        try:
            return await call_next(msg)
        except ValidationError as exc:
            # The subscriber handling the message (FastStream's context) names its durable in its consumer config.
            subscriber = self.context.get_local("handler_")
            durable = getattr(getattr(subscriber, "config", None), "durable_name", None) or "unknown"
            log.error("event_does_not_match_contract", error=str(exc), subject=msg.raw_message.subject,
                      consumer=durable)
            dead_lettered(durable)
            raise Terminate() from None


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
