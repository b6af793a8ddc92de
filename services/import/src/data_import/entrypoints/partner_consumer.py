"""The durable consumers of partners' messages (stream PARTNER), one per kind of message.

Not ``servicekit.consumers.Subscription``'s endpoint: a partner's message is read as bytes with the subject it was
published on (which names the partner), so that a message that breaks its contract is answered with a French reason
before it is dead-lettered, instead of being terminated unread."""
from __future__ import annotations

import structlog
from faststream.exceptions import NackMessage
from faststream.exceptions import RejectMessage as Terminate
from faststream.nats import NatsMessage, PullSub
from nats.aio.msg import Msg

from contracts.partners import PARTNER_MESSAGES
from data_import.handlers.deps import Deps
from data_import.handlers.partner_messages import Received, on_partner_message
from servicekit.app import Service
from servicekit.bus_names import pull_inbox_prefix
from servicekit.consumers import Subscription, dead_lettered, delivery_count
from servicekit.errors import RejectMessage
from servicekit.metrics import DEAD_LETTERED, EVENTS_HANDLED, REDELIVERED

log = structlog.get_logger("data_import.partner_consumer")


def durable_of(kind) -> str:
    """``data-import-partner-notebook-upsert``: the consumer of one kind of message, whichever partner sent it."""
    return "data-import-partner-" + "-".join(kind.subject.split(".")[2:-1])


def stream_seq(message: NatsMessage) -> int:
    try:
        return message.raw_message.metadata.sequence.stream
    except Exception:  # FastStream's test broker has no JetStream metadata
        return 0


def endpoint_for(subscription: Subscription, deps: Deps):
    async def endpoint(message: NatsMessage) -> None:
        delivered = delivery_count(message.raw_message)
        if delivered > 1:
            REDELIVERED.labels(subscription.durable).inc()
        received = Received(message.raw_message.subject, message.body, stream_seq(message))
        with structlog.contextvars.bound_contextvars(consumer=subscription.durable, subject=received.subject):
            try:
                await on_partner_message(received, deps)
            except RejectMessage:
                dead_lettered(subscription.durable)
                raise Terminate() from None
            except Exception as exc:
                last_try = delivered >= subscription.max_deliver
                log.warning("partner_message_failed", error=repr(exc), delivered=delivered, last_try=last_try)
                EVENTS_HANDLED.labels(subscription.durable, "retry").inc()
                if last_try:
                    DEAD_LETTERED.labels(subscription.durable).inc()
                delays = subscription.nak_delays_s
                raise NackMessage(delay=delays[min(delivered, len(delays)) - 1]) from None
        EVENTS_HANDLED.labels(subscription.durable, "ok").inc()

    endpoint.__annotations__ = {"message": NatsMessage, "return": None}
    endpoint.__name__ = endpoint.__qualname__ = subscription.durable.replace("-", "_")
    return endpoint


def replay_partner_message(deps: Deps):
    """``carnet dlq replay`` of a partner's message: handled once as it came (a message refused for a territory since
    granted to the partner, say); a refusal again is answered to the partner too."""
    async def handle(original: Msg, seq: int) -> None:
        await on_partner_message(Received(original.subject, original.data, seq), deps)

    return handle


def register(service: Service, deps: Deps) -> None:
    for kind in PARTNER_MESSAGES:
        # The consumer's settings (durable, filter, acks, retries); its handler is ``endpoint_for``'s.
        subscription = Subscription(durable=durable_of(kind), event_type=kind, handler=on_partner_message)
        # One message at a time, in stream order, each acked on its own (not the event consumers' batches).
        options = {**subscription.subscriber_options(), "pull_sub": PullSub(batch_size=1, timeout=1)}
        service.bus.broker.subscriber(**options, inbox_prefix=pull_inbox_prefix(service.settings.nats_url))(
            endpoint_for(subscription, deps))
        service.bus.answer_replays(subscription, replay_partner_message(deps))
        service.bus.subscriptions.append(subscription)  # its lag is watched like the others'
