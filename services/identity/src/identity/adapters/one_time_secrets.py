"""Using a one-time secret row (login link, email change, OIDC state): of two concurrent uses, exactly one wins."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect, update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.domain.sessions import OneTimeSecretState, Verdict, judge


def usable(row, now: datetime) -> bool:
    """The row exists, is unused and unexpired (``judge``'s rules)."""
    return row is not None and judge(OneTimeSecretState(row.expires_at, row.used_at), now) is Verdict.usable


async def claim(session: AsyncSession, row, now: datetime) -> bool:
    """Marks a usable row used with a conditional update; False when a concurrent use got there first."""
    model = type(row)
    [key] = inspect(model).primary_key
    result = await session.execute(
        update(model).where(key == getattr(row, key.key), model.used_at.is_(None)).values(used_at=now))
    return result.rowcount == 1
