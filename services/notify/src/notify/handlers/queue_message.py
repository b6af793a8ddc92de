"""Queues rendered messages in notify's own outbox, in the same transaction as the inbox claim of their event.

Adding a notification is one template plus one subscriber that calls ``queue_once``.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.notify import Channel, NotificationFrequency
from notify.adapters.orm import NotificationPreference, OutgoingMessage
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


# Non-urgent messages to professionals: who chose a daily digest gets them gathered once a day.
DIGESTIBLE = frozenset({"notebook_invitation", "referent_replaced", "orientation_changed",
                        "reorientation_denied", "exchange_mention", "exchange_reply"})


async def queue_once(deps: Deps, consumer: str, source_id: uuid.UUID, messages: list[Outgoing],
                     absorbed: Sequence[uuid.UUID] = ()) -> bool:
    """Queues ``messages`` unless this consumer already handled ``source_id``: the id of the event that
    triggers them, or of a schedule's period (replicas racing for it queue them once). True if queued.

    A digest names the held messages it gathers (``absorbed``): they are marked in the same transaction."""
    async def queue(session: AsyncSession) -> None:
        now = deps.clock()
        digest_readers = await wanting_a_digest(session, messages)
        for message in messages:
            session.add(OutgoingMessage(
                source_event_id=source_id, template=message.template, channel=message.channel,
                recipient=message.to, subject=message.rendered.subject, text=message.rendered.text,
                html=message.rendered.html, links=message.rendered.links,
                contains_secret=message.contains_secret, created_at=now, next_attempt_at=now,
                status="held" if message.to in digest_readers and message.template in DIGESTIBLE else "pending",
            ))
        if absorbed:
            await session.execute(update(OutgoingMessage).where(
                OutgoingMessage.id.in_(absorbed), OutgoingMessage.status == "held").values(status="digested"))

    if not await inbox.apply_once(deps.sessions, consumer, source_id, queue):
        return False
    deps.queued.set()
    return True


async def wanting_a_digest(session: AsyncSession, messages: list[Outgoing]) -> set[str]:
    """The recipients of digestible emails among ``messages`` who chose the daily digest."""
    emails = {m.to for m in messages if m.template in DIGESTIBLE and m.channel == Channel.email}
    if not emails:
        return set()
    return set((await session.scalars(select(NotificationPreference.email).where(
        NotificationPreference.email.in_(emails),
        NotificationPreference.frequency == NotificationFrequency.daily))).all())


def page_url(deps: Deps, path: str) -> str:
    return f"{deps.settings.public_url.rstrip('/')}{path}"
