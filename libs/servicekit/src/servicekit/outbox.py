"""Transactional outbox: events are rows written in the business transaction, published later by the relay."""
from __future__ import annotations

import asyncio

from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import IntegrationEvent
from servicekit import telemetry
from servicekit.db import utcnow
from servicekit.logging import current_request_id
from servicekit.messaging import outbox_table


class Outbox:
    """Writes events into the caller's transaction and wakes the relay when that transaction commits."""

    def __init__(self) -> None:
        self.committed = asyncio.Event()

    async def add(self, session: AsyncSession, event: IntegrationEvent) -> None:
        headers = telemetry.inject_headers()
        if request_id := current_request_id():
            headers["X-Request-Id"] = request_id
        await session.execute(
            insert(outbox_table).values(
                event_id=event.event_id,
                subject=event.subject,
                payload=event.model_dump_json().encode(),
                headers=headers,
                created_at=utcnow(),
            )
        )
        sync_session = session.sync_session
        if not sa_event.contains(sync_session, "after_commit", self._wake_relay):
            sa_event.listen(sync_session, "after_commit", self._wake_relay, once=True)

    def _wake_relay(self, _session) -> None:
        # after_commit runs on the event loop thread (SQLAlchemy's greenlet bridge), so this is safe.
        self.committed.set()
