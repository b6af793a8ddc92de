"""Queues rendered messages in notify's own outbox, in the same transaction as the inbox claim of their event.

Adding a notification is one template plus one subscriber that calls ``queue_once``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass


from contracts.notify import Channel
from notify.adapters.orm import OutgoingMessage
from notify.handlers.deps import Deps
from notify.rendering import Rendered
from servicekit import inbox


@dataclass(frozen=True)
class Outgoing:
    template: str
    channel: Channel
    to: str
    rendered: Rendered
    contains_secret: bool = False


async def queue_once(deps: Deps, consumer: str, source_id: uuid.UUID, messages: list[Outgoing]) -> bool:
    """Queues ``messages`` unless this consumer already handled ``source_id``: the id of the event that
    triggers them, or of a schedule's period (replicas racing for it queue them once). True if queued."""
    async with deps.sessions() as session, session.begin():
        if not await inbox.claim(session, consumer, source_id):
            return False
        now = deps.clock()
        for message in messages:
            session.add(OutgoingMessage(
                source_event_id=source_id, template=message.template, channel=message.channel,
                recipient=message.to, subject=message.rendered.subject, text=message.rendered.text,
                html=message.rendered.html, links=message.rendered.links,
                contains_secret=message.contains_secret, created_at=now, next_attempt_at=now,
            ))
    deps.queued.set()
    return True


def page_url(deps: Deps, path: str) -> str:
    return f"{deps.settings.public_url.rstrip('/')}{path}"
