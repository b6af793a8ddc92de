"""Writes the access log: one line per account, notebook and day, counted with an upsert so that two views at
the same moment (two tabs, two replicas) add up instead of failing on the unique line."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notebook.adapters.orm import Member, NotebookVisit
from servicekit.db import upsert_insert
from servicekit.outbox import Outbox, outbox_rows

log = structlog.get_logger("notebook.access_log")

PARIS = ZoneInfo("Europe/Paris")  # a day is the user's day, not UTC's
# How long views wait to be written together: under load, the views of many pages share a transaction; a crash
# loses at most these last ones. Well under what a person takes to open a page and then read its access log.
WRITE_EVERY_S = 0.05
WRITE_TRIES = 3  # a view not written after so many writes is logged whole instead


async def record_visit(session: AsyncSession, at: datetime, *, views: int = 1, last_at: datetime | None = None,
                       **who) -> None:
    """``who``: notebook_id, account_id, person_id, role, person_name, structure_name. ``views`` seen from ``at`` to
    ``last_at`` (the same day), counted at once."""
    table = NotebookVisit.__table__
    statement = upsert_insert(session.bind.dialect.name)(table).values(
        day=at.astimezone(PARIS).date(), visited_at=at, last_visited_at=last_at or at, views=views, **who)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.notebook_id, table.c.account_id, table.c.day],
        set_={"views": table.c.views + statement.excluded.views,
              "last_visited_at": statement.excluded.last_visited_at,
              "person_name": statement.excluded.person_name, "structure_name": statement.excluded.structure_name}))


class VisitLog:
    """The access log's writes off the page's path: a view is handed over here and the page answered at once; every
    ``WRITE_EVERY_S`` the views handed over meanwhile go in one transaction (one upsert per account, notebook and
    day, their audit events, the members' last visit). A write per view, even in group commit, cost a page on
    SQLite about a third of its CPU in the service and kept its answer waiting for the commit.

    What a crash can lose: the views of the last ``WRITE_EVERY_S`` and of the write under way (a stop writes them
    all: ``flush``). A view whose write fails is tried again with the next write, then, at the third failure, logged
    whole as an error (``access_log_write_failed``): it is in the service's log if not in its database. Readers of
    the log see the views not yet written that concern them by asking ``written`` first."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self.sessions, self.outbox = sessions, outbox
        self._waiting: list[dict] = []
        self._writing: list[dict] = []  # the write under way
        self._now = asyncio.Event()  # a reader waits: write without waiting for the interval
        self._done: asyncio.Future | None = None  # settled once the views waiting now are written
        self._writing_done: asyncio.Future | None = None
        self._writer: asyncio.Task | None = None

    def record(self, visit: dict) -> None:
        """``visit``: ``at``, ``who`` (record_visit's), ``audit`` (the event of the read), ``member_id`` or None."""
        # The audit event's row now, while the request's trace and request id are the current ones.
        self._hand_over({**visit, "audit": outbox_rows([visit["audit"]]), "tries": 0})

    def _hand_over(self, visit: dict) -> None:
        self._waiting.append(visit)
        if self._done is None:
            self._done = asyncio.get_running_loop().create_future()
        self._keep_writing()

    def _keep_writing(self) -> None:
        """The writer running while views wait (started again if it ended on an error of its own)."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_waiting(), name="notebook-access-log")

    async def written(self, concerns: Callable[[dict], bool]) -> None:
        """Returns once the views not yet written whose ``who`` ``concerns`` picks are, written at once (the views
        of others than the reader's, on the notebook read: the page; every view: a stop)."""
        while True:
            if any(concerns(visit["who"]) for visit in self._waiting):
                done = self._done
                self._keep_writing()
            elif any(concerns(visit["who"]) for visit in self._writing):
                done = self._writing_done
            else:
                return
            self._now.set()
            await asyncio.shield(done)

    async def flush(self) -> None:
        """Every view handed over, written (the service stops)."""
        await self.written(lambda who: True)

    async def _write_while_waiting(self) -> None:
        while self._waiting:
            try:
                await asyncio.wait_for(self._now.wait(), WRITE_EVERY_S)
            except TimeoutError:
                pass
            self._now.clear()
            self._writing, self._waiting = self._waiting, []
            self._writing_done, self._done = self._done, None
            try:
                await self._settle(self._writing)
            finally:
                self._writing = []
                self._writing_done.set_result(None)

    async def _settle(self, visits: list[dict]) -> None:
        """Writes ``visits`` in one transaction; else each alone, so that one that cannot be written (a notebook
        deleted meanwhile) does not hold back the others. Those failing wait for the next write, or are logged."""
        for batch in ([visits], [[visit] for visit in visits]) if len(visits) > 1 else ([visits],):
            failed = []
            for views in batch:
                try:
                    async with self.sessions.begin() as session:
                        await self._write(session, views)
                except Exception as error:
                    failed.append((views, error))
            if not failed:
                return
        for views, error in failed:
            for visit in views:
                visit["tries"] += 1
                if visit["tries"] < WRITE_TRIES:
                    self._hand_over(visit)
                else:
                    log.error("access_log_write_failed", error=repr(error), at=visit["at"].isoformat(),
                              **{key: str(value) for key, value in visit["who"].items()})

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
