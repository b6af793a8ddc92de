"""Retention (issue 21), what every service's purge shares: the published rows of its outbox (kept a few days for
diagnosis) that mention a beneficiary go with the rest of her data (unpublished rows stay: they must still leave),
and so do the messages of the streams it owns that mention her."""
from __future__ import annotations

from collections.abc import Iterable

from nats.js.errors import NotFoundError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.bus_names import SWEPT_STREAMS  # noqa: F401  (the handlers read it from here)
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




async def forget_in_streams(js, streams: Iterable[str], values: Iterable[object]) -> int:
    """Deletes the messages of ``streams`` whose payload holds one of ``values`` (ids, addresses, names): the owner
    streams keep 30 days, which is more than a purge may wait. Reads every message once (a purge is nightly work);
    how many were deleted."""
    needles = needles_of(values)
    if not needles:
        return 0
    deleted = 0
    for stream in streams:
        info = await js.stream_info(stream)
        if not info.state.messages:
            continue
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                message = await js.get_msg(stream, seq)
            except NotFoundError:  # deleted already, or expired meanwhile
                continue
            if any(n in (message.data or b"") for n in needles):
                await js.delete_msg(stream, seq)
                deleted += 1
    return deleted
