"""PostgreSQL's planner statistics kept up with tables that grow fast.

PostgreSQL plans a query from statistics that autovacuum refreshes at most once a minute per database, and only once
a tenth of a table has changed. A table that an import fills from empty (beneficiaries, notebooks, accounts, the
import's own rows) was planned, for most of the import, as the empty table it had been: the beneficiaries' matching
read the whole territory through the wrong index, identity's account lookups scanned every account, the import's
next batch sorted every row of the import. ``servicekit.db.plan_for_now`` has a batch's statements planned for
their parameters rather than by a generic plan, but a plan is only as good as the statistics it is made from.

So each service, every ``EVERY_S``, analyses those of its tables that changed by at least their own size since they
were last analysed. A table going from empty to 100,000 rows is analysed about eight times, each well under a
second (ANALYZE reads a sample). Measured on a 100,000-row import, paired runs: PostgreSQL's CPU while the rows
were applied went from 130 to 70 s. Replicas may all run it: an ANALYZE is taken under a transaction advisory lock
of its table, and a replica that does not get it leaves the table to the one that did. SQLite plans without
statistics (no ``sqlite_stat1`` is kept): nothing to do there.
"""
from __future__ import annotations

from functools import partial

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.periodic import repeat

log = structlog.get_logger("servicekit.statistics")
EVERY_S = 2.0
# Below this many changes a table is left to autovacuum: plans over a few hundred rows are cheap whatever they are.
LEAST_CHANGES = 1000

GROWN = text("""
    SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze >= greatest(:least, c.reltuples)
    ORDER BY s.relname""")
TAKE = text("SELECT pg_try_advisory_xact_lock(hashtext('analyze:' || :name))")


async def analyse_grown(engine: AsyncEngine, least_changes: int = LEAST_CHANGES) -> list[str]:
    """Analyses the tables that changed by their size since their last analysis; returns their names."""
    analysed = []
    async with engine.connect() as connection:
        names = (await connection.execute(GROWN, {"least": least_changes})).scalars().all()
        await connection.rollback()
        quote = connection.dialect.identifier_preparer.quote
        for name in names:
            async with connection.begin():
                if await connection.scalar(TAKE, {"name": name}):
                    await connection.execute(text(f"ANALYZE {quote(name)}"))
                    analysed.append(name)
    return analysed


def keep_statistics(engine: AsyncEngine, every_s: float = EVERY_S):
    """The background work that runs ``analyse_grown`` every ``every_s``."""
    async def analyse() -> None:
        if analysed := await analyse_grown(engine):
            log.debug("statistics_refreshed", tables=analysed)
    return partial(repeat, analyse, every_s, "statistics_refresh_failed", log, first_after=True)
