"""The retention purge: lines older than ``retention_months`` go, oldest first, once a Paris day whatever the number
of replicas (the day is written on the chain's row, locked by the purge). The anchor moves to the last line purged,
so that ``carnet audit verify`` starts from it and the chain stays verifiable."""
from __future__ import annotations

from calendar import monthrange
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import delete, func, select

from servicekit.periodic import repeat

from audit.adapters.orm import AuditChain, AuditLine
from audit.handlers.deps import Deps

log = structlog.get_logger("audit.purge")
PARIS = ZoneInfo("Europe/Paris")


def months_before(moment: datetime, months: int) -> datetime:
    """The same day ``months`` earlier, or that month's last day (31 March → 28 or 29 February)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    return moment.replace(year=year, month=month + 1, day=min(moment.day, monthrange(year, month + 1)[1]))


async def purge(deps: Deps, now: datetime | None = None, *, force: bool = False) -> int:
    """Deletes the lines recorded before the limit; the number deleted (0 when today's purge was done already)."""
    now = now or deps.clock()
    today = now.astimezone(PARIS).date().isoformat()
    limit = months_before(now, deps.settings.retention_months)
    async with deps.sessions() as session, session.begin():
        chain = await session.scalar(select(AuditChain).where(AuditChain.id == 1).with_for_update())
        if chain.purged_on == today and not force:
            return 0
        chain.purged_on = today
        last = await session.scalar(select(func.max(AuditLine.seq)).where(AuditLine.recorded_at < limit))
        if last is None:
            return 0
        anchor = await session.scalar(select(AuditLine.hash).where(AuditLine.seq == last))
        count = (await session.execute(delete(AuditLine).where(AuditLine.seq <= last))).rowcount
        chain.anchor_seq, chain.anchor_hash = last, anchor
    log.info("audit_purged", lines=count, anchor_seq=last)
    return count


async def run_purge(deps: Deps) -> None:
    await repeat(partial(purge, deps), deps.settings.purge_interval_s, "audit_purge_failed", log)
