"""One replica works on an import at a time: it holds a lease it renews as it goes; a replica that dies lets its
lease run out and another takes the import over (parsing starts again, applying goes on with the rows left)."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import or_, update

from data_import.adapters.orm import imports
from data_import.handlers.deps import Deps


class LeaseLost(Exception):
    """Another replica took the import over (this one was too slow to renew): stop working on it."""


def _lease(deps: Deps) -> dict:
    return {"worker": deps.worker_id, "lease_until": deps.clock() + timedelta(seconds=deps.settings.lease_s)}


async def claim(deps: Deps, import_id: uuid.UUID, states: tuple[str, ...]) -> bool:
    """Takes the import when it is in one of ``states`` and nobody else holds a live lease on it."""
    async with deps.sessions() as session, session.begin():
        result = await session.execute(update(imports).where(
            imports.c.id == import_id, imports.c.state.in_(states),
            or_(imports.c.lease_until.is_(None), imports.c.lease_until < deps.clock(),
                imports.c.worker == deps.worker_id)).values(**_lease(deps)))
        return result.rowcount == 1


async def renew(deps: Deps, import_id: uuid.UUID, **changes) -> None:
    """Extends this replica's lease, writing ``changes`` with it; ``LeaseLost`` when another replica holds it."""
    async with deps.sessions() as session, session.begin():
        result = await session.execute(update(imports).where(
            imports.c.id == import_id, imports.c.worker == deps.worker_id).values(**_lease(deps), **changes))
        if result.rowcount != 1:
            raise LeaseLost(str(import_id))


async def release(deps: Deps, import_id: uuid.UUID, **changes) -> None:
    """Lets the import go, writing ``changes`` (its next state): nothing to do until someone acts on it."""
    async with deps.sessions() as session, session.begin():
        result = await session.execute(update(imports).where(
            imports.c.id == import_id, imports.c.worker == deps.worker_id).values(
                worker=None, lease_until=None, **changes))
        if result.rowcount != 1:
            raise LeaseLost(str(import_id))
