"""How the gateway follows the few events that drop what it holds (gateway.web.structure_offers,
gateway.auth.me_cache): one way for all, so that each follows them alike."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from faststream.middlewares import AckPolicy
from faststream.nats import DeliverPolicy, JStream

from contracts.base import IntegrationEvent
from contracts.streams import stream_for_subject


def follow_new_events(broker, name: str,
                      handlers: Mapping[type[IntegrationEvent], Callable[[Any], Awaitable[None]]]) -> None:
    """Subscribes ``broker`` (before it starts) to each event type's subject with its handler (whose annotation
    decodes the event), from now on: an ordered consumer is an ephemeral push consumer that starts again where it
    was after a lost connection, so no event is skipped. The streams are not declared here (ensure_streams does it
    at the gateway's start). ``name`` titles the subscriptions, ``<name>:<subject>``."""
    for event_type, handler in handlers.items():
        broker.subscriber(
            event_type.subject, stream=JStream(stream_for_subject(event_type.subject).name, declare=False),
            ordered_consumer=True, deliver_policy=DeliverPolicy.NEW, ack_policy=AckPolicy.MANUAL,
            title=f"{name}:{event_type.subject}")(handler)
