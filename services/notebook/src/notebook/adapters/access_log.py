"""Writes the access log: one line per account, notebook and day, counted with an upsert so that two views at
the same moment (two tabs, two replicas) add up instead of failing on the unique line."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notebook.adapters.orm import Member, NotebookVisit
from servicekit.outbox import Outbox, outbox_rows

PARIS = ZoneInfo("Europe/Paris")  # a day is the user's day, not UTC's


async def record_visit(session: AsyncSession, at: datetime, *, views: int = 1, last_at: datetime | None = None,
                       **who) -> None:
    """``who``: notebook_id, account_id, person_id, role, person_name, structure_name. ``views`` seen from ``at`` to
    ``last_at`` (the same day), counted at once."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    table = NotebookVisit.__table__
    statement = dialect.insert(table).values(day=at.astimezone(PARIS).date(), visited_at=at,
                                             last_visited_at=last_at or at, views=views, **who)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.notebook_id, table.c.account_id, table.c.day],
        set_={"views": table.c.views + statement.excluded.views,
              "last_visited_at": statement.excluded.last_visited_at,
              "person_name": statement.excluded.person_name, "structure_name": statement.excluded.structure_name}))


class VisitLog:
    """The access log's writes in group commit: the views that arrive while a write is under way wait for the next
    one and go in it together, each view's answer leaving only once its line is committed (a view is never lost,
    and the page never claims a visit that a crash would forget). A write transaction per view had the page's
    readers queue for SQLite's one writer (PostgreSQL's commit flushes too); under load, many views now share a
    transaction, and a view alone is written at once, as before."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self.sessions, self.outbox = sessions, outbox
        self._waiting: list[tuple[dict, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def record(self, visit: dict) -> None:
        """``visit``: ``at``, ``who`` (record_visit's), ``audit`` (the event of the read), ``member_id`` or None."""
        future = asyncio.get_running_loop().create_future()
        # The audit event's row now, while the request's trace and request id are the current ones.
        self._waiting.append(({**visit, "audit": outbox_rows([visit["audit"]])}, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting())
        await asyncio.shield(future)  # a caller gone does not cancel the others' write

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            if not await self._settle(batch) and len(batch) > 1:
                for one in batch:  # one view that cannot be written must not fail the others with it
                    await self._settle([one])

    async def _settle(self, batch: list[tuple[dict, asyncio.Future]]) -> bool:
        """Writes ``batch`` in one transaction and answers its views; a failure is each view's only when alone."""
        try:
            async with self.sessions.begin() as session:
                await self._write(session, [visit for visit, _ in batch])
        except Exception as error:
            if len(batch) > 1:
                return False
            outcome = error
        else:
            outcome = None
        for _, future in batch:
            if not future.done():
                future.set_exception(outcome) if outcome else future.set_result(None)
        return True

    async def _write(self, session: AsyncSession, visits: list[dict]) -> None:
        lines: dict[tuple, list] = {}  # one upsert per account, notebook and day: [first, last, views, who]
        last_seen: dict[uuid.UUID, datetime] = {}
        for visit in visits:
            who, at = visit["who"], visit["at"]
            line = lines.setdefault((who["notebook_id"], who["account_id"], at.astimezone(PARIS).date()),
                                    [at, at, 0, who])
            line[0], line[1], line[2], line[3] = min(line[0], at), max(line[1], at), line[2] + 1, who
            if visit["member_id"]:
                last_seen[visit["member_id"]] = max(at, last_seen.get(visit["member_id"], at))
        # Every read in the audit trail too (issue 21), each with its own request's trace.
        await self.outbox.add_rows(session, [row for visit in visits for row in visit["audit"]])
        # In the order of their keys: two replicas' transactions lock the same lines in the same order.
        for _, (first, last, views, who) in sorted(lines.items(), key=lambda item: str(item[0])):
            await record_visit(session, first, views=views, last_at=last, **who)
        for member_id, at in sorted(last_seen.items(), key=lambda item: str(item[0])):
            await session.execute(update(Member).where(Member.id == member_id).values(last_visited_at=at))
