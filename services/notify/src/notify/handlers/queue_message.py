"""Queues a rendered message in notify's own outbox, in the same transaction as the inbox claim."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from notify.adapters.orm import OutgoingMessage
from notify.handlers.deps import Deps
from notify.rendering import RenderedEmail


def queue_email(
    session: AsyncSession, deps: Deps, *, source_event_id: uuid.UUID, template: str, to: str,
    email: RenderedEmail, contains_secret: bool = False,
) -> None:
    now = deps.clock()
    session.add(
        OutgoingMessage(
            source_event_id=source_event_id, template=template, channel="email", recipient=to,
            subject=email.subject, text=email.text, html=email.html, links=email.links,
            contains_secret=contains_secret, created_at=now, next_attempt_at=now,
        )
    )
