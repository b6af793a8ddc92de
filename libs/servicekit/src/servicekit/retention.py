"""Retention (issue 21), what every service's purge shares: the published rows of its outbox (kept a few days for
diagnosis) that mention a beneficiary go with the rest of her data. Unpublished rows stay: they must still leave."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.messaging import outbox_table


def needles_of(values: Iterable[object]) -> list[bytes]:
    """The byte strings to look for in JSON payloads (ids as text, values as written and JSON-escaped)."""
    found = set()
    for value in values:
        text = str(value).strip() if value is not None else ""
        if len(text) < 3:
            continue
        found.add(text.encode())
        found.add(text.encode("ascii", "backslashreplace").decode().replace("\\x", "\\u00").encode())
    return sorted(found)


async def forget_published(session: AsyncSession, values: Iterable[object]) -> int:
    """Deletes the published outbox rows whose payload holds one of ``values``; how many."""
    needles = needles_of(values)
    if not needles:
        return 0
    gone = []
    for seq, payload in (await session.execute(select(outbox_table.c.seq, outbox_table.c.payload).where(
            outbox_table.c.published_at.is_not(None)))).all():
        data = bytes(payload)
        if any(n in data for n in needles):
            gone.append(seq)
    for start in range(0, len(gone), 500):
        await session.execute(delete(outbox_table).where(outbox_table.c.seq.in_(gone[start:start + 500])))
    return len(gone)
