"""Transactional outbox: events are rows written in the business transaction, published later by the relay.

The commit wakes the relay of this process at once; on PostgreSQL it also wakes the relays of the service's other
replicas (``NOTIFY`` in the writing transaction, delivered by PostgreSQL on commit, heard through ``LISTEN`` by
``servicekit.relay``). SQLite serves one process: its relay is woken in-process, or by its poll.
"""
from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import event as sa_event
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from contracts.base import IntegrationEvent
from servicekit import telemetry
from servicekit.db import utcnow
from servicekit.logging import current_request_id
from servicekit.messaging import outbox_table

# The LISTEN/NOTIFY channel of the relays; LISTEN is per database, and each service has its own.
WAKE_CHANNEL = "carnet_outbox"


class Outbox:
    """Writes events into the caller's transaction and wakes the relay when that transaction commits."""

    def __init__(self) -> None:
        self.committed = asyncio.Event()
        # Says which process a NOTIFY comes from: this process's relay is woken by ``committed`` already.
        self.token = uuid.uuid4().hex
        self._watched: dict[uuid.UUID, asyncio.Future] = {}

    def watch(self, event_id: uuid.UUID) -> asyncio.Future:
        """Before the commit: a future done once this process's relay has published ``event_id``."""
        future = asyncio.get_running_loop().create_future()
        self._watched[event_id] = future
        return future

    async def published(self, watched: asyncio.Future, timeout_s: float = 1.0) -> None:
        """Waits (at most ``timeout_s``: another replica's relay may take the row) for a watched event to be on the
        stream, for a reply that must not come before its effect elsewhere (a revoked session)."""
        try:
            await asyncio.wait_for(asyncio.shield(watched), timeout_s)
        except TimeoutError:
            pass
        finally:
            self._watched = {k: f for k, f in self._watched.items() if f is not watched}

    def mark_published(self, event_ids) -> None:
        for event_id in event_ids:
            future = self._watched.pop(event_id, None)
            if future is not None and not future.done():
                future.set_result(None)

    async def add(self, session: AsyncSession, event: IntegrationEvent) -> None:
        await self.add_all(session, [event])

    async def add_all(self, session: AsyncSession, events: list[IntegrationEvent]) -> None:
        """Many events in one INSERT (a bulk import, the demo's seed), the relay woken when they commit."""
        if events:
            await self.add_rows(session, outbox_rows(events))

    async def add_rows(self, session: AsyncSession, rows: list[dict]) -> None:
        """Rows made earlier by ``outbox_rows``, in the context of the request they belong to (its trace and request
        id), when the transaction that writes them runs in another: a write shared by several requests."""
        if not rows:
            return
        await session.execute(insert(outbox_table), rows)
        if wake_replicas_first_time(session.sync_session):
            await session.execute(self._notify)
        self.wake_on_commit(session.sync_session)

    @property
    def _notify(self):
        return text(f"NOTIFY {WAKE_CHANNEL}, '{self.token}'")

    def wake_replicas(self, session: Session) -> None:
        """For a synchronous session listener that writes outbox rows itself (``outbox_rows``): the other replicas'
        relays are woken by its commit too."""
        if wake_replicas_first_time(session):
            session.execute(self._notify)

    def wake_on_commit(self, session: Session) -> None:
        """The commit of this transaction of ``session`` wakes this process's relay. Noted in the session's info,
        read by one listener of every session (``_wake_relays``): a listener added to each writing session, and
        removed by its commit, cost a sixth of a small write's time in the service."""
        session.info.setdefault(WAKE_ON_COMMIT, set()).add(self)


# session.info: the outboxes whose relays the commit of the session's transaction wakes. A transaction rolled back
# leaves them there: the session's next commit wakes them for nothing, which costs a relay's empty round.
WAKE_ON_COMMIT = "outbox_wake_on_commit"


def _wake_relays(session: Session) -> None:
    # after_commit runs on the event loop thread (SQLAlchemy's greenlet bridge), so this is safe.
    for outbox in session.info.pop(WAKE_ON_COMMIT, ()):
        outbox.committed.set()


sa_event.listen(Session, "after_commit", _wake_relays)


def wake_replicas_first_time(session: Session) -> bool:
    """Whether this transaction of ``session`` must still ``NOTIFY`` the other replicas' relays: on PostgreSQL, once
    per transaction (PostgreSQL would fold repeated notifications, but each costs a round trip)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    transaction = session.get_transaction()
    if session.info.get("outbox_notified") is transaction:
        return False
    session.info["outbox_notified"] = transaction
    return True


def outbox_rows(events: list[IntegrationEvent]) -> list[dict]:
    """The outbox rows of ``events``, carrying the current trace context and request id (also written by a
    synchronous session listener, which cannot await ``Outbox.add_all``)."""
    headers = telemetry.inject_headers()
    if request_id := current_request_id():
        headers["X-Request-Id"] = request_id
    now = utcnow()
    return [{"event_id": e.event_id, "subject": e.subject, "payload": e.model_dump_json().encode(),
             "headers": headers, "created_at": now} for e in events]
