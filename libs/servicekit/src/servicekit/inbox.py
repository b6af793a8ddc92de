"""Inbox: a consumer claims ``(consumer, event_id)`` in the same transaction as its effect.

A redelivered event finds its claim already committed and is acknowledged without a second effect.
"""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.db import utcnow
from servicekit.messaging import inbox_table


async def claim(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    """True when this is the first time ``consumer`` sees ``event_id``; False for a redelivery."""
    dialect_insert = sqlite.insert if session.bind.dialect.name == "sqlite" else postgresql.insert
    statement = (
        dialect_insert(inbox_table)
        .values(consumer=consumer, event_id=event_id, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    )
    result = await session.execute(statement)
    return result.rowcount == 1


async def seen(session: AsyncSession, consumer: str, event_id: uuid.UUID) -> bool:
    """Whether ``consumer`` already claimed ``event_id`` (a cheap look before costly work; ``claim`` decides)."""
    return await session.scalar(select(inbox_table.c.event_id).where(
        inbox_table.c.consumer == consumer, inbox_table.c.event_id == event_id)) is not None
