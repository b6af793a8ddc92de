"""Reads the whole log back in ``seq`` order and recomputes its chain (``carnet audit verify``)."""
from __future__ import annotations

from sqlalchemy import select

from audit.adapters.orm import AuditChain, AuditLine
from audit.domain.chain import HASHED_FIELDS, Verdict, verify
from servicekit.db import create_engine, sessionmaker

COLUMNS = [getattr(AuditLine, name) for name in (*HASHED_FIELDS, "prev_hash", "hash")]


async def verify_database(url: str) -> Verdict:
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            chain = await session.scalar(select(AuditChain).where(AuditChain.id == 1))
            rows = await session.stream(select(*COLUMNS).order_by(AuditLine.seq).execution_options(yield_per=1000))
            lines = [dict(row._mapping) async for row in rows]
    finally:
        await engine.dispose()
    return verify(lines, chain.anchor_seq, chain.anchor_hash, chain.head_seq, chain.head_hash)
