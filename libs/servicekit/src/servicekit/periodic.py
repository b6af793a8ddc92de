"""Work a service does again and again in the background (tidying, statistics, nightly runs, reminders)."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog


async def repeat(work: Callable[[], Awaitable[object]], every_s: float, failed: str,
                 log: structlog.typing.FilteringBoundLogger, *, first_after: bool = False) -> None:
    """Runs ``work`` now (or after ``every_s`` when ``first_after``), then every ``every_s``, until cancelled. A
    failure (the database away for a moment) is logged as ``failed`` and the next round tries again."""
    if first_after:
        await asyncio.sleep(every_s)
    while True:
        try:
            await work()
        except Exception:  # a cancel is not an Exception: it ends the loop
            log.exception(failed)
        await asyncio.sleep(every_s)
