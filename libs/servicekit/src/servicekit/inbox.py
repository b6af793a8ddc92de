"""Inbox: a consumer claims ``(consumer, event_id)`` in the same transaction as its effect.

A redelivered event finds its claim already committed and is acknowledged without a second effect.
Consumers say so with ``@exactly_once(CONSUMER)``; work keyed by something else than an event (a schedule's
period) calls ``apply_once`` with its own key. Such a consumer can also apply many events in one transaction
(``handler.together``): the event consumers (``servicekit.consumers``) give it the events already waiting, one
commit for a hundred events of an import instead of a hundred.
"""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.db import plan_for_now, upsert_insert, utcnow
from servicekit.messaging import inbox_table


class HasSessions(Protocol):
    """What a consumer's ``deps`` must offer: every service's ``Deps`` has its database's sessions."""

    sessions: async_sessionmaker[AsyncSession]


async def claim(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    """True when this is the first time ``consumer`` sees ``event_id``; False for a redelivery."""
    dialect_insert = upsert_insert(session.bind.dialect.name)
    statement = (
        dialect_insert(inbox_table)
        .values(consumer=consumer, event_id=event_id, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    )
    result = await session.execute(statement)
    return result.rowcount == 1


async def claim_many(session: AsyncSession, consumer: str, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """``claim`` of many events in one statement (one round trip): those ``consumer`` sees for the first time.
    The rows are the parameters of one statement (SQLAlchemy sends them as one multi-row INSERT), not values
    written into it: a statement with a row's values in it was compiled again for every batch, the largest part of
    what directory spent consuming an import's events."""
    now = utcnow()
    rows = [{"consumer": consumer, "event_id": event_id, "processed_at": now} for event_id in dict.fromkeys(event_ids)]
    if not rows:
        return set()
    return set((await session.execute(_claims(session.bind.dialect.name), rows)).scalars())


@cache
def _claims(dialect: str):
    dialect_insert = upsert_insert(dialect)
    return (dialect_insert(inbox_table).on_conflict_do_nothing(index_elements=["consumer", "event_id"])
            .returning(inbox_table.c.event_id))


async def seen(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    """Whether ``consumer`` already claimed ``event_id`` (a cheap look before costly work; ``claim`` decides)."""
    return await session.scalar(select(inbox_table.c.event_id).where(
        inbox_table.c.consumer == consumer, inbox_table.c.event_id == event_id)) is not None


async def apply_once(sessions: async_sessionmaker[AsyncSession], consumer: str, key: uuid.UUID,
                     effect: Callable[[AsyncSession], Awaitable[None]]) -> bool:
    """Runs ``effect(session)`` in the transaction that claims ``(consumer, key)``: True when it ran; False
    when that claim was already committed. An effect that raises rolls its claim back with it, so the next
    delivery applies it; two deliveries at once apply it once (the second claim waits for the first)."""
    async with sessions() as session, session.begin():
        if not await claim(session, consumer, key):
            return False
        await effect(session)
    return True


Effect = Callable[[Any, AsyncSession, Any], Awaitable[None]]
Handler = Callable[[Any, Any, Any], Awaitable[None]]


# From this many events a batch is an import's flow, reading tables it grows: planned for now (``plan_for_now``). The
# few events of ordinary traffic keep their prepared plans and save the round trip.
LARGE_BATCH = 20

Prepare = Callable[[Sequence[Any], AsyncSession, Any], Awaitable[None]]
Finish = Callable[[AsyncSession, Any], Awaitable[None]]


def exactly_once(consumer: str, prepare: Prepare | None = None,
                 finish: Finish | None = None) -> Callable[[Effect], Handler]:
    """Makes an event consumer of ``effect(event, session, deps)``: the handler, called as
    ``handler(event, meta, deps)`` like every consumer, opens a transaction on ``deps.sessions``, claims
    ``(consumer, event.event_id)`` and runs the effect in it; a redelivered event does nothing. ``prepare(events,
    session, deps)``, when given, runs before the effects of a batch (``together``), in its transaction: what the
    effects would each read, read once for the batch. ``finish(session, deps)`` runs after them, in the same
    transaction: what they left to write together (new rows in one INSERT rather than an ORM object each)."""
    def decorate(effect: Effect) -> Handler:
        async def handler(event: Any, meta: Any, deps: HasSessions) -> None:
            await apply_once(deps.sessions, consumer, event.event_id,
                             lambda session: effect(event, session, deps))

        async def together(events: Sequence[Any], deps: HasSessions) -> None:
            """The events in order in ONE transaction, each claimed: all applied, or none when one raises (the
            caller then hands them over one by one, each retried or dead-lettered on its own)."""
            async with deps.sessions() as session, session.begin():
                if len(events) >= LARGE_BATCH:
                    await plan_for_now(session)
                first_seen = await claim_many(session, consumer, [event.event_id for event in events])
                if prepare is not None:
                    await prepare([event for event in events if event.event_id in first_seen], session, deps)
                for event in events:
                    if event.event_id in first_seen:
                        first_seen.discard(event.event_id)  # the same event twice in a batch: applied once
                        await effect(event, session, deps)
                if finish is not None:
                    await finish(session, deps)

        # Name and docstring for logs and traces, but not ``functools.wraps``: its ``__wrapped__`` would make
        # ``inspect.signature`` (which a broker reads) report the effect's parameters instead of the handler's.
        handler.__module__, handler.__name__ = effect.__module__, effect.__name__
        handler.__qualname__, handler.__doc__ = effect.__qualname__, effect.__doc__
        handler.together = together
        return handler
    return decorate
