"""How an import ends, done or failed: its state, its end time, its lease let go and ``ImportCompletedV1`` in the
outbox, in one transaction."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.imports import (ImportCompletedV1, ImportCounts, ImportKind, ImportState, Outcome, ReviewCounts,
                               ReviewStatus)
from data_import.adapters.orm import import_rows, imports
from data_import.handlers.deps import Deps

INTERNAL_ERROR = ("Une erreur interne a interrompu l'import. Importez le fichier à nouveau ; si l'erreur se "
                  "reproduit, signalez-la.")


async def outcome_counts(session: AsyncSession, import_id: uuid.UUID) -> dict[str, int]:
    """Counts of outcomes so far (the ``imports`` columns), and ``rows_done``: rows with an outcome."""
    found = dict((await session.execute(
        select(import_rows.c.outcome, func.count()).where(import_rows.c.import_id == import_id,
                                                          import_rows.c.outcome.is_not(None))
        .group_by(import_rows.c.outcome))).all())
    counts = {outcome.value: found.get(outcome.value, 0) for outcome in Outcome}
    return {**counts, "rows_done": sum(counts.values())}


async def review_counts(session: AsyncSession, import_id: uuid.UUID) -> dict[str, int]:
    found = dict((await session.execute(
        select(import_rows.c.status, func.count()).where(import_rows.c.import_id == import_id)
        .group_by(import_rows.c.status))).all())
    return {f"review_{status.value}": found.get(status.value, 0) for status in ReviewStatus}


async def completed(session: AsyncSession, deps: Deps, import_id: uuid.UUID) -> None:
    """``ImportCompletedV1`` of the import as it now stands, into the outbox of ``session``'s transaction."""
    job = (await session.execute(select(imports).where(imports.c.id == import_id))).one()
    # A flux's rows all carry its date: the first row that has values says it.
    first = await session.scalar(select(import_rows.c["values"]).where(
        import_rows.c.import_id == import_id, import_rows.c["values"].is_not(None)).order_by(import_rows.c.row)
        .limit(1))
    flux_date = (first or {}).get("flux_date")
    await deps.outbox.add(session, ImportCompletedV1(
        import_id=job.id, kind=ImportKind(job.kind), deployment_id=job.deployment_id, account_id=job.account_id,
        filename=job.filename, state=ImportState(job.state), reason=job.reason,
        counts=ImportCounts(created=job.created, updated=job.updated, unchanged=job.unchanged,
                            rejected=job.rejected, excluded=job.excluded),
        account_email=(job.actor or {}).get("email") or "", rows_total=job.rows_total,
        review=ReviewCounts(new=job.review_new, same=job.review_same, conflict=job.review_conflict,
                            invalid=job.review_invalid),
        flux_date=date.fromisoformat(flux_date) if isinstance(flux_date, str) else None,
        structure_id=job.structure_id))


async def fail(deps: Deps, import_id: uuid.UUID, reason: str, *, from_states: tuple[str, ...] | None = None) -> bool:
    """Ends the import as ``failed`` with ``reason`` (French); False when it was not in ``from_states``."""
    async with deps.sessions() as session, session.begin():
        query = update(imports).where(imports.c.id == import_id)
        if from_states:
            query = query.where(imports.c.state.in_(from_states))
        result = await session.execute(query.values(
            state=ImportState.failed.value, reason=reason[:2000], finished_at=deps.clock(), worker=None,
            lease_until=None, rows_per_s=None))
        if result.rowcount != 1:
            return False
        await completed(session, deps, import_id)
        return True
