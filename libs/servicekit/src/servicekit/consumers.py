"""Durable pull consumers of domain events, on FastStream.

Policy (DESIGN §2.2): a handler error NAKs the message with backoff (never drops it); after ``max_deliver``
deliveries JetStream emits a MAX_DELIVERIES advisory captured by the ``DEADLETTER`` stream. A message that can
never succeed (``RejectMessage``, or a payload that does not match its contract) is terminated at once, which
emits a MSG_TERMINATED advisory into ``DEADLETTER`` too.

Events are handled one after the other, in stream order (a profile updated after it was created), which
FastStream's batches, handled concurrently, would not keep: FastStream fetches one message at a time (a pull request
that returns as soon as an event comes, so a quiet system passes each event on at once). A consumer made with
``inbox.exactly_once`` then also takes the events already waiting behind that one (the message says how many),
up to ``BATCH_SIZE``, and applies them in one transaction: one commit and one inbox statement for a hundred events
of an import instead of a hundred of each. Should one event of a batch fail, the transaction is undone and the
events handled one by one, each acked, retried or dead-lettered on its own. Other consumers keep one event per
fetch: without an inbox claim, a batch waiting behind a slow event could outlive its ``ack_wait`` and be delivered
and applied again.
"""
from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import nats.errors
import structlog
from faststream import BaseMiddleware
from faststream.exceptions import NackMessage
from faststream.exceptions import RejectMessage as Terminate
from faststream.middlewares import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsMessage, PullSub
from faststream.nats import AckPolicy as JsAckPolicy
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from opentelemetry import trace
from pydantic import ValidationError

from contracts.base import IntegrationEvent
from contracts.streams import stream_for_subject
from servicekit import telemetry
from servicekit.errors import RejectMessage
from servicekit.metrics import DEAD_LETTERED, EVENTS_HANDLED, REDELIVERED

log = structlog.get_logger("servicekit.consumers")
BATCH_SIZE = 100  # events applied in one transaction, at most
# Taking the events already waiting: they are there (the first one said how many), so this only bounds a race with
# another replica of the durable that took them first.
WAITING_TIMEOUT_S = 0.2


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
        """How to apply many events in one transaction, when the handler knows how (``inbox.exactly_once``
        handlers, bound to their deps by ``functools.partial`` in the services' wiring)."""
        handler = self.handler
        if isinstance(handler, partial) and hasattr(handler.func, "together"):
            return partial(handler.func.together, *handler.args, **handler.keywords)
        return getattr(handler, "together", None)

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


def delivery_count(message: NatsMessage | Msg) -> int:
    """JetStream's count of deliveries; 1 for a message without JetStream metadata (FastStream's test broker)."""
    try:
        return getattr(message, "raw_message", message).metadata.num_delivered
    except Exception:
        return 1


@dataclass
class Delivery:
    event: IntegrationEvent
    raw: Msg | None  # None for the message FastStream handed over: FastStream acks it from the endpoint's outcome
    delivered: int
    headers: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    """What becomes of one message: acked, NAKed after ``delay`` seconds, or terminated (dead letter)."""

    verdict: str  # "ack" | "nak" | "term"
    delay: float | None = None


def event_endpoint(subscription: Subscription, pulled: Callable[[], Any] = lambda: None):
    """The FastStream handler of one durable: runs the service's handler, then acks; NAKs with its backoff when
    the handler fails, terminates at once when the handler says the message can never succeed. ``pulled()`` is
    the durable's pull subscription once started (``None`` in FastStream's test broker), from which the events
    waiting behind the one handed over are taken."""
    together = subscription.together

    async def endpoint(event, message):
        first = Delivery(event, None, delivery_count(message), dict(message.headers or {}))
        waiting = await take_waiting(subscription, pulled(), message) if together is not None else []
        if waiting and await handled_together(subscription, together, [first, *waiting]):
            for delivery in waiting:
                await delivery.raw.ack()
            return
        outcome = await handle_one(subscription, first)
        for delivery in waiting:  # one by one, in order, each on its own
            await settle(delivery.raw, await handle_one(subscription, delivery))
        if outcome.verdict == "term":
            raise Terminate()
        if outcome.verdict == "nak":
            raise NackMessage(delay=outcome.delay)

    endpoint.__annotations__ = {"event": subscription.event_type, "message": NatsMessage, "return": None}
    endpoint.__name__ = endpoint.__qualname__ = subscription.durable.replace("-", "_")
    return endpoint


async def take_waiting(subscription: Subscription, pull, message: NatsMessage) -> list[Delivery]:
    """The events waiting behind ``message`` on the durable, up to a batch: taken from the server in one pull
    request that returns at once (never waiting for events to come). A message that breaks its contract is
    dead-lettered here, as ``BrokenContracts`` does for the first."""
    try:
        pending = message.raw_message.metadata.num_pending
    except Exception:  # FastStream's test broker: no JetStream metadata, one event at a time
        return []
    if pull is None or not pending or BATCH_SIZE <= 1:
        return []
    try:
        raws = await take_now(pull, min(pending, BATCH_SIZE - 1), WAITING_TIMEOUT_S)
    except Exception as exc:  # NATS away: they stay on the server
        log.debug("events_waiting_not_taken", consumer=subscription.durable, error=repr(exc))
        return []
    waiting = []
    for raw in raws:
        try:
            event = subscription.event_type.model_validate_json(raw.data)
        except ValidationError as exc:
            log.error("event_does_not_match_contract", error=str(exc), subject=raw.subject,
                      consumer=subscription.durable)
            dead_lettered(subscription.durable)
            await raw.term()
            continue
        waiting.append(Delivery(event, raw, delivery_count(raw), dict(raw.headers or {})))
    return waiting


async def take_now(pull: JetStreamContext.PullSubscription, count: int, timeout_s: float) -> list[Msg]:
    """Up to ``count`` messages that the server holds for the durable now: one pull request that never waits for
    more (``no_wait`` without ``expires``: the server sends what it has, then a status if that was fewer), whose
    messages are taken from the subscription's queue as they come, awaiting only while it is empty.

    nats-py's ``fetch`` awaits every message of a batch through tasks of its own (``next_msg``): each message cost
    a few turns of the event loop, and a service's loop is busy (its writers, its relay, its other consumers): at
    500 events/s, taking 50 events that were already there took up to ``timeout_s`` (200 ms) and the consumer fell
    behind, the tail of event propagation (issue 19 item 3). nats-py offers no such request: this sends it on the
    subscription's own inbox, as ``fetch`` does (attributes of nats-py's ``PullSubscription``, pinned in
    requirements.lock)."""
    sub = pull._sub
    queue = sub._pending_queue
    await pull._nc.publish(pull._nms, json.dumps({"batch": count, "no_wait": True}).encode(), pull._deliver)
    deadline = time.monotonic() + timeout_s
    taken: list[Msg] = []
    while len(taken) < count:
        if queue.empty():
            try:
                raw = await sub.next_msg(timeout=max(deadline - time.monotonic(), 0.001))
            except nats.errors.TimeoutError:  # what still comes is taken by the next fetch, from the queue
                break
        else:  # as ``next_msg`` does, without awaiting
            raw = queue.get_nowait()
            sub._pending_size -= len(raw.data)
            queue.task_done()
        status = JetStreamContext.is_status_msg(raw)
        if status is None:
            taken.append(raw)
        elif status != api.StatusCode.CONTROL_MESSAGE:  # heartbeats aside, a status ends a pull request
            break
    return taken


async def handled_together(subscription: Subscription, together: BatchHandler, batch: list[Delivery]) -> bool:
    """The batch applied in one transaction; False (nothing applied) when one of its events failed."""
    for delivery in batch:
        if delivery.delivered > 1:
            REDELIVERED.labels(subscription.durable).inc()
    # Each event's consumer span, child of its producer's: a trace still goes from the request to its consumers.
    spans = [telemetry.tracer().start_span(
        f"{subscription.event_type.subject} process", context=telemetry.extract_context(delivery.headers),
        kind=trace.SpanKind.CONSUMER, attributes={"messaging.system": "nats", "messaging.operation": "process",
                                                  "messaging.message.id": str(delivery.event.event_id),
                                                  "messaging.batch.message_count": len(batch)},
    ) for delivery in batch[1:]]  # the first one's is FastStream's
    try:
        with structlog.contextvars.bound_contextvars(consumer=subscription.durable,
                                                     subject=subscription.event_type.subject):
            try:
                await together([delivery.event for delivery in batch])
            except Exception as exc:
                log.info("event_batch_handled_one_by_one", events=len(batch), error=repr(exc))
                return False
    finally:
        for span in spans:
            span.end()
    EVENTS_HANDLED.labels(subscription.durable, "ok").inc(len(batch))
    return True


async def handle_one(subscription: Subscription, delivery: Delivery) -> Outcome:
    delivered = delivery.delivered
    if delivered > 1:
        REDELIVERED.labels(subscription.durable).inc()
    with structlog.contextvars.bound_contextvars(
        consumer=subscription.durable, subject=subscription.event_type.subject,
        event_id=str(delivery.event.event_id), request_id=delivery.headers.get("X-Request-Id"),
    ):
        try:
            await subscription.handler(delivery.event, EventMeta(subscription.event_type.subject, delivered,
                                                                  delivery.headers))
        except RejectMessage as exc:
            log.error("event_rejected", reason=str(exc), delivered=delivered)
            dead_lettered(subscription.durable)
            return Outcome("term")
        except Exception as exc:
            last_try = delivered >= subscription.max_deliver
            log.warning("event_handler_failed", error=repr(exc), delivered=delivered, last_try=last_try)
            EVENTS_HANDLED.labels(subscription.durable, "retry").inc()
            if last_try:
                DEAD_LETTERED.labels(subscription.durable).inc()
            delays = subscription.nak_delays_s
            return Outcome("nak", delays[min(delivered, len(delays)) - 1] if delays else None)
    EVENTS_HANDLED.labels(subscription.durable, "ok").inc()
    return Outcome("ack")


async def settle(raw: Msg, outcome: Outcome) -> None:
    if outcome.verdict == "ack":
        await raw.ack()
    elif outcome.verdict == "nak":
        await raw.nak(delay=outcome.delay)
    else:
        await raw.term()


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


ReplayHandler = Callable[[Msg, int], Awaitable[None]]  # the original message read from its stream, its sequence


def replay_callback(durable: str, stream_context: Callable[[], object], handle: ReplayHandler):
    """Answers ``carnet dlq replay`` for ``durable``: the original message, read from its stream, handled once by
    ``handle``, here only; the answer says whether it was applied. A plain nats-py callback on the durable's replay
    subject (``Bus.start``): an operator's rare request needs none of a FastStream subscriber's machinery, which cost
    the notebook 0.7 MB idle for its 23 durables."""

    async def on_replay(request: Msg) -> None:
        try:
            wanted = json.loads(request.data)
            original = await stream_context().get_msg(wanted["stream"], wanted["stream_seq"])
            await handle(original, wanted["stream_seq"])
        except Exception as exc:  # said to the operator, who may fix the cause and replay again
            log.warning("dead_letter_replay_failed", consumer=durable, error=repr(exc))
            await request.respond(json.dumps({"error": repr(exc)[:500]}).encode())
            return
        EVENTS_HANDLED.labels(durable, "replayed").inc()
        await request.respond(json.dumps({"ok": True}).encode())

    return on_replay


def replay_event(subscription: Subscription) -> ReplayHandler:
    """A contract event's replay: parsed and handled as its consumer would, once."""

    async def handle(original: Msg, stream_seq: int) -> None:
        event = subscription.event_type.model_validate_json(original.data)
        with structlog.contextvars.bound_contextvars(consumer=subscription.durable, subject=original.subject,
                                                     event_id=str(event.event_id)):
            await subscription.handler(event, EventMeta(original.subject, 1, dict(original.headers or {})))
            log.info("dead_letter_replayed", stream_seq=stream_seq)

    return handle
