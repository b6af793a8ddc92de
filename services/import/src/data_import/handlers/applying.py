"""Applying an import: the rows reviewed ``new`` or ``same`` and not excluded go to their owner in batches, whose
outcomes are stored as they come; progress, counts and speed are updated after each batch.

Rows are taken in order of their number, after the last one sent: up to ``batches_in_flight`` batches travel at
once. A row without an outcome is one still to send: after a crash the import goes on with those (the owner
answers a batch it already applied with the outcomes it recorded), so each row is applied exactly once.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import timedelta
from functools import partial

import structlog
from sqlalchemy import JSON, Row, and_, bindparam, select, update

from contracts.imports import (AppliedReply, ImportActor, ImportKind, ImportRowValues, ImportState, Outcome,
                               ReviewStatus)
from data_import.adapters.orm import import_rows, imports
from data_import.domain.kinds import KINDS
from data_import.handlers.deps import Deps
from data_import.handlers.directory_first import through_directory
from data_import.handlers.ending import completed, outcome_counts
from data_import.handlers.leases import LeaseLost, renew
from data_import.handlers.owners import apply_request, ask_owner
from servicekit.errors import ServiceError

log = structlog.get_logger("data_import.applying")
NO_OUTCOME = "Le service n'a pas rendu de résultat pour cette ligne : importez-la à nouveau."
TO_APPLY = (ReviewStatus.new.value, ReviewStatus.same.value)

_store_outcome = update(import_rows).where(and_(
    import_rows.c.import_id == bindparam("b_import_id"), import_rows.c.row == bindparam("b_row"),
)).values(outcome=bindparam("b_outcome"), messages=bindparam("b_messages", type_=JSON),
          match=bindparam("b_match", type_=JSON))


class Progress:
    """Rows applied by this run, for its speed (a run resumed after a crash measures its own)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.rows = 0

    def add(self, rows: int) -> float:
        self.rows += rows
        return self.rows / max(time.monotonic() - self.started, 1e-6)


async def apply_import(deps: Deps, import_id: uuid.UUID) -> None:
    async with deps.sessions() as session:
        job = (await session.execute(select(imports).where(imports.c.id == import_id))).one()
        counts = await outcome_counts(session, import_id)
    keep_lease = partial(renew, deps, import_id)
    await keep_lease(**counts)  # the truth of the rows, whatever a crash left in the counters
    progress, last_row = Progress(), 0
    in_flight: set[asyncio.Task] = set()
    try:
        while True:
            deps.check_running()
            async with deps.sessions() as session:
                batch = (await session.execute(
                    select(import_rows.c.row, import_rows.c["values"], import_rows.c.messages, import_rows.c.match)
                    .where(import_rows.c.import_id == import_id, import_rows.c.row > last_row,
                           import_rows.c.outcome.is_(None), import_rows.c.status.in_(TO_APPLY))
                    .order_by(import_rows.c.row).limit(KINDS[job.kind].batch_rows))).all()
            if not batch:
                break
            last_row = batch[-1].row
            in_flight.add(asyncio.create_task(apply_batch(deps, job, batch, progress)))
            if len(in_flight) >= max(deps.settings.batches_in_flight, 1):
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
        for task in asyncio.as_completed(list(in_flight)):
            await task
        in_flight.clear()
    finally:
        for task in in_flight:
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
    await finish(deps, import_id)


async def apply_batch(deps: Deps, job: Row, batch: list[Row], progress: Progress) -> None:
    kind = ImportKind(job.kind)
    rows = [ImportRowValues.model_construct(row=row.row, values=row.values or {}) for row in batch]
    first: dict[int, list[str]] = {}  # what the directory said of the rows it applied first, if any
    try:
        rows, first = await through_directory(deps, job, batch, rows, partial(renew, deps, job.id))
        request = apply_request(kind)(
            import_id=job.id, kind=kind, actor=ImportActor.model_validate(job.actor), structure_id=job.structure_id,
            rows=rows)
        reply: AppliedReply = await ask_owner(deps, request, partial(renew, deps, job.id))
        outcomes = {result.row: result for result in reply.results}
        refusal = None
    except ServiceError as error:  # the batch refused as a whole: each of its rows says why
        outcomes, refusal = {}, error.message
    changes, counts = [], Counter()
    for row in batch:
        result = outcomes.get(row.row)
        outcome = result.outcome.value if result else Outcome.rejected.value
        messages = [*first.get(row.row, []), *result.messages] if result else [refusal or NO_OUTCOME]
        match = row.match
        if result and result.target_id and not (match or {}).get("target_id"):
            match = {**(match or {}), "target_id": str(result.target_id)}
        counts[outcome] += 1
        changes.append({"b_import_id": job.id, "b_row": row.row, "b_outcome": outcome,
                        "b_messages": _merged(messages, row.messages), "b_match": match})
    async with deps.sessions() as session, session.begin():
        await session.execute(_store_outcome, changes)
        column = imports.c
        result = await session.execute(update(imports).where(
            column.id == job.id, column.worker == deps.worker_id).values(
                **{outcome: column[outcome] + count for outcome, count in counts.items()},
                rows_done=column.rows_done + len(batch), rows_per_s=progress.add(len(batch)),
                lease_until=deps.clock() + timedelta(seconds=deps.settings.lease_s)))
        if result.rowcount != 1:  # another replica took over: this batch's outcomes are its to record
            raise LeaseLost(str(job.id))


def _merged(first: list[str], then: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *then]))


async def finish(deps: Deps, import_id: uuid.UUID) -> None:
    """Done: the counts recounted from the rows, the end time, the event, the lease let go, at once."""
    async with deps.sessions() as session, session.begin():
        counts = await outcome_counts(session, import_id)
        result = await session.execute(update(imports).where(
            imports.c.id == import_id, imports.c.worker == deps.worker_id).values(
                **counts, state=ImportState.done.value, finished_at=deps.clock(), worker=None, lease_until=None))
        if result.rowcount != 1:
            raise LeaseLost(str(import_id))
        await completed(session, deps, import_id)
    log.info("import_applied", import_id=str(import_id), **counts)
