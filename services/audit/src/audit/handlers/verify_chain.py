"""Reads the whole log back in ``seq`` order and recomputes its chain (``carnet audit verify``): streamed, so that a
year of lines never sits in memory whole (only their hashes, to tell a moved line from a rewritten one)."""
from __future__ import annotations

from sqlalchemy import select

from audit.adapters.orm import AuditChain, AuditLine
from audit.domain.chain import HASHED_FIELDS, ChainCheck, Verdict
from servicekit.db import create_engine, is_sqlite, sessionmaker

COLUMNS = [getattr(AuditLine, name) for name in (*HASHED_FIELDS, "prev_hash", "hash")]
BATCH = 5000


async def verify_database(url: str) -> Verdict:
    engine = create_engine(url)
    # One snapshot for the head, the hashes and the lines while the service goes on appending: REPEATABLE READ on
    # PostgreSQL; a SQLite read transaction (WAL) is one already.
    snapshot = engine if is_sqlite(engine) else engine.execution_options(isolation_level="REPEATABLE READ")
    try:
        async with sessionmaker(snapshot)() as session:
            chain = await session.scalar(select(AuditChain).where(AuditChain.id == 1))
            hashes = await session.stream_scalars(select(AuditLine.hash).execution_options(yield_per=BATCH))
            check = ChainCheck(chain.anchor_seq, chain.anchor_hash, {h async for h in hashes})
            rows = await session.stream(select(*COLUMNS).order_by(AuditLine.seq).execution_options(yield_per=BATCH))
            async for row in rows:
                if problem := check.feed(dict(row._mapping)):
                    return Verdict(check.checked, problem)
        return Verdict(check.checked, check.finish(chain.head_seq, chain.head_hash))
    finally:
        await engine.dispose()
