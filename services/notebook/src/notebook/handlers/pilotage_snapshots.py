"""The daily snapshot of the beneficiaries by support status, per territory and structure (issue 18): the
dashboards' months before the current one are read from it, as the read model only knows today.

Taken at startup when today's (Paris day) is missing, once the read model's rebuild is done (a notebook without its
row yet would be missing from the day's counts, an undercount kept for good), then checked every hour; one INSERT … SELECT … GROUP BY on
the read model. Several replicas may try the same day: the unique index keeps one, the others roll back.
"""
from __future__ import annotations

import uuid
from datetime import date
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from servicekit.periodic import repeat

from notebook.adapters.orm import NO_STRUCTURE, PilotageNotebook, PilotageSnapshot
from notebook.handlers import pilotage_facts
from notebook.handlers.deps import Deps

log = structlog.get_logger("notebook.pilotage_snapshots")
PARIS = ZoneInfo("Europe/Paris")
CHECK_EVERY_S = 3600


async def take_snapshot(sessions, day: date) -> int:
    """Today's rows, unless taken already: how many rows were written (0 when the day was there)."""
    p = PilotageNotebook
    try:
        async with sessions.begin() as session:
            if await session.scalar(select(PilotageSnapshot.id).where(PilotageSnapshot.day == day).limit(1)):
                return 0
            rows = (await session.execute(select(p.deployment_id, p.structure_id, p.support, func.count())
                                          .group_by(p.deployment_id, p.structure_id, p.support))).all()
            if rows:
                await session.execute(insert(PilotageSnapshot), [
                    {"id": uuid.uuid4(), "day": day, "deployment_id": deployment_id,
                     "structure_id": structure_id or NO_STRUCTURE, "support": support, "count": n}
                    for deployment_id, structure_id, support, n in rows])
            return len(rows)
    except IntegrityError:  # another replica took it in the meantime
        return 0


async def run_snapshots(deps: Deps) -> None:
    """The start's rebuild of the read model, then the snapshots: the first one counts every notebook."""
    await pilotage_facts.rebuild_in_background(deps)

    async def snapshot() -> None:
        await take_snapshot(deps.sessions, deps.clock().astimezone(PARIS).date())
    await repeat(snapshot, CHECK_EVERY_S, "pilotage_snapshot_failed", log)
