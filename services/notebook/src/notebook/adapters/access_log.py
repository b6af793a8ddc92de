"""Writes the access log: one line per account, notebook and day, counted with an upsert so that two views at
the same moment (two tabs, two replicas) add up instead of failing on the unique line."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from notebook.adapters.orm import NotebookVisit

PARIS = ZoneInfo("Europe/Paris")  # a day is the user's day, not UTC's


async def record_visit(session: AsyncSession, at: datetime, **who) -> None:
    """``who``: notebook_id, account_id, person_id, role, person_name, structure_name."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    table = NotebookVisit.__table__
    statement = dialect.insert(table).values(day=at.astimezone(PARIS).date(), visited_at=at, last_visited_at=at,
                                             views=1, **who)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.notebook_id, table.c.account_id, table.c.day],
        set_={"views": table.c.views + 1, "last_visited_at": statement.excluded.last_visited_at,
              "person_name": statement.excluded.person_name, "structure_name": statement.excluded.structure_name}))
