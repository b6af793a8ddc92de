"""Rows kept for a fixed time, then deleted: each service declares what it keeps and for how long
(docs/donnees-personnelles.md says why), and deletes what is past its limit a few times a day.

Deleting by age is idempotent, so replicas may all run it: no lock, no schedule to share. The outbox's published
rows (event payloads, names included) and the inbox's processed ids are every service's: they are always kept here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import structlog
from sqlalchemy import Column, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.db import utcnow
from servicekit.messaging import inbox_table, outbox_table
from servicekit.periodic import repeat

log = structlog.get_logger("servicekit.housekeeping")
EVERY_S = 6 * 3600
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Kept:
    """Rows whose ``column`` (a timestamp) is older than ``days`` are deleted; rows where it is NULL are kept. The
    rows of other tables that belong to them (``children``: columns holding this table's primary key) go first."""

    column: Column
    days: int
    children: tuple[Column, ...] = ()

    @property
    def table(self) -> str:
        return self.column.table.name


# A published event is on its stream (30 days at most): its row is only a trace. A processed event id protects a
# consumer from a redelivery, which JetStream can make while the stream holds the message: a little longer.
SHARED = (Kept(outbox_table.c.published_at, 7), Kept(inbox_table.c.processed_at, 31))


async def delete_expired(sessions: async_sessionmaker[AsyncSession], rules: tuple[Kept, ...],
                         now: datetime | None = None) -> dict[str, int]:
    """Deletes what each rule says is past its time; returns the rows deleted per table."""
    now = now or utcnow()
    deleted: dict[str, int] = {}
    async with sessions() as session, session.begin():
        for rule in rules:
            expired = rule.column < now - rule.days * DAY
            for child in rule.children:
                [key] = rule.column.table.primary_key.columns
                result = await session.execute(delete(child.table).where(child.in_(select(key).where(expired))))
                deleted[child.table.name] = deleted.get(child.table.name, 0) + result.rowcount
            result = await session.execute(delete(rule.column.table).where(expired))
            deleted[rule.table] = deleted.get(rule.table, 0) + result.rowcount
    return deleted


def keep_tidy(sessions: async_sessionmaker[AsyncSession], rules: tuple[Kept, ...],
              clock: Callable[[], datetime] = utcnow, every_s: float = EVERY_S):
    """The background work that applies ``rules`` (and the shared ones) now, then every ``every_s``."""
    async def tidy() -> None:
        deleted = await delete_expired(sessions, (*SHARED, *rules), clock())
        if any(deleted.values()):
            log.info("expired_rows_deleted", **deleted)
    return partial(repeat, tidy, every_s, "housekeeping_failed", log)
