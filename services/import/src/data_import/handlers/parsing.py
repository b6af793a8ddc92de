"""Parsing an uploaded file: read it, validate each row, flag the rows the file repeats, then ask the owner what
each valid row would do (review, which changes nothing), batch by batch; the import then waits for the uploader.

The file is read from the object store into a temporary file (never whole in memory) while the antivirus scans
it (``scanning``: a file it did not find clean is never read), rows are validated by batches of ``BATCH_ROWS`` in
a thread (the next batch is validated while the owner reviews the previous ones), and each batch is stored with
one bulk insert. A parse interrupted (a crash, a lease lost) starts
over.
"""
from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog
from nats.js.errors import NotFoundError
from sqlalchemy import Row, delete, insert, select

from contracts.imports import BATCH_ROWS, ImportActor, ImportKind, ImportRowValues, ImportState, ReviewStatus
from data_import.adapters.orm import import_rows, imports
from data_import.domain.duplicates import Duplicates
from data_import.domain.caf_msa import read_flux, validate_foyers
from data_import.domain.kinds import KINDS, HeaderMap, match_header
from data_import.domain.reading import ReadError, Row as FileRow, read_table
from data_import.domain.validation import Parsed, validate_rows
from data_import.handlers.deps import Deps
from data_import.handlers.ending import fail, review_counts
from data_import.handlers.leases import release, renew
from data_import.handlers.owners import ask_owner, review_request
from data_import.handlers.scanning import download_scanned
from servicekit.errors import ServiceError

log = structlog.get_logger("data_import.parsing")
PARIS = ZoneInfo("Europe/Paris")
NOT_RECEIVED = "Le fichier n'a pas été reçu en entier : importez-le à nouveau."
NOT_REVIEWED = "Cette ligne n'a pas pu être examinée : importez-la à nouveau."
# Kinds whose file is no table (the CAF/MSA XML flux): how it is read into rows of cells, and how they are validated.
READERS = {ImportKind.caf_msa.value: (read_flux, validate_foyers)}


def upload_name(import_id: uuid.UUID) -> str:
    return f"imports/{import_id}"


async def parse_import(deps: Deps, import_id: uuid.UUID) -> None:
    async with deps.sessions() as session:
        job = (await session.execute(select(imports).where(imports.c.id == import_id))).one()
    async with deps.sessions() as session, session.begin():  # starting over: nothing of a previous try is kept
        await session.execute(delete(import_rows).where(import_rows.c.import_id == import_id))
    keep_lease = partial(renew, deps, import_id)
    await keep_lease(rows_done=0, rows_total=0, rows_per_s=None, warnings=[], header=[])
    with tempfile.TemporaryDirectory(prefix="carnet-import-") as directory:
        path = Path(directory) / "upload"
        try:
            downloaded = await download_scanned(deps, upload_name(import_id), path, import_id)
        except (NotFoundError, ValueError):
            await fail(deps, import_id, NOT_RECEIVED)
            return
        if not downloaded.readable:  # infected, or the antivirus could not tell: never parsed
            await fail(deps, import_id, downloaded.refusal)
            return
        fingerprint = downloaded.fingerprint
        try:
            read, _validate = READERS.get(job.kind, (read_table, validate_rows))
            table = await asyncio.to_thread(read, path, job.filename)
        except ReadError as error:
            await fail(deps, import_id, error.message)
            return
        header_map = match_header(job.kind, table.header)
        if header_map.problem:
            await fail(deps, import_id, header_map.problem)
            return
        warnings = [*header_map.warnings, *await already_imported(deps, job, fingerprint)]
        await keep_lease(fingerprint=fingerprint, header=table.header, rows_total=table.rows_total,
                         warnings=warnings)
        try:
            await review_rows(deps, job, table.rows(), header_map, keep_lease)
        except ServiceError as refusal:  # the owner refused the batch as a whole (the uploader's rights)
            await fail(deps, import_id, refusal.message)
            return
    async with deps.sessions() as session, session.begin():
        counts = await review_counts(session, import_id)
    await release(deps, import_id, state=ImportState.review.value, rows_done=table.rows_total, rows_per_s=None,
                  **counts)
    log.info("import_reviewed", import_id=str(import_id), rows=table.rows_total, **counts)


async def already_imported(deps: Deps, job: Row, fingerprint: str) -> list[str]:
    """A warning naming when the same file was imported into the same territory as the same kind, if it was."""
    same_territory = (imports.c.deployment_id.is_(None) if job.deployment_id is None
                      else imports.c.deployment_id == job.deployment_id)
    query = select(imports.c.finished_at).where(
        imports.c.kind == job.kind, imports.c.fingerprint == fingerprint, imports.c.id != job.id,
        imports.c.state == ImportState.done.value, same_territory,
    ).order_by(imports.c.finished_at.desc()).limit(1)
    async with deps.sessions() as session:
        finished: datetime | None = await session.scalar(query)
    if finished is None:
        return []
    local = finished.astimezone(PARIS)
    return [f"Ce fichier a déjà été importé le {local:%d/%m/%Y} à {local:%H:%M} : l'importer à nouveau ne met à "
            "jour que ce qui a changé depuis."]


async def review_rows(deps: Deps, job: Row, rows: Iterator[FileRow], header_map: HeaderMap, keep_lease) -> None:
    """Rows are read here by batches, validated in the pool of parsers (several batches at once, in other
    processes), checked for rows the file repeats in the order of the file, then reviewed by the owner and stored,
    up to ``batches_in_flight`` batches at once."""
    duplicates = Duplicates(job.kind, header_map.headers)
    progress = Progress()
    loop = asyncio.get_running_loop()
    pool = deps.parsers()
    _read, validate = READERS.get(job.kind, (read_table, validate_rows))
    batch_rows = KINDS[job.kind].batch_rows
    validations: deque[asyncio.Future] = deque()
    in_flight: set[asyncio.Task] = set()
    read_all = False
    try:
        while True:
            deps.check_running()
            while not read_all and not validations:
                raw = await asyncio.to_thread(next_rows, rows, batch_rows)
                if not raw:
                    read_all = True
                    break
                validations.append(loop.run_in_executor(pool, validate, job.kind, header_map, raw))
            if not validations:
                break
            batch = await validations.popleft()
            for parsed in batch:
                if parsed.status is None and (repeated := duplicates.message_for(parsed.row, parsed.values)):
                    parsed.status, parsed.messages = ReviewStatus.conflict.value, [repeated, *parsed.messages]
            in_flight.add(asyncio.create_task(review_batch(deps, job, batch, keep_lease, progress)))
            if len(in_flight) >= max(deps.settings.batches_in_flight, 1):
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
        for task in asyncio.as_completed(list(in_flight)):
            await task
        in_flight = set()
    finally:
        for future in (*validations, *in_flight):
            future.cancel()
        await asyncio.gather(*validations, *in_flight, return_exceptions=True)


def next_rows(rows: Iterator[FileRow], batch_rows: int = BATCH_ROWS) -> list[tuple[int, list[str]]]:
    return [(row.number, row.cells) for row in islice(rows, batch_rows)]


class Progress:
    def __init__(self) -> None:
        self.started, self.rows = time.monotonic(), 0

    def add(self, rows: int) -> dict:
        self.rows += rows
        return {"rows_done": self.rows, "rows_per_s": self.rows / max(time.monotonic() - self.started, 1e-6)}


async def review_batch(deps: Deps, job: Row, batch: list[Parsed], keep_lease, progress: Progress) -> None:
    """What the owner says of the batch's valid rows, then the whole batch stored with one bulk insert."""
    kind = ImportKind(job.kind)
    pending = [parsed for parsed in batch if parsed.status is None]
    if pending:
        reply = await ask_owner(deps, review_request(kind)(
            import_id=job.id, kind=kind, actor=ImportActor.model_validate(job.actor), structure_id=job.structure_id,
            rows=[ImportRowValues.model_construct(row=parsed.row, values=parsed.values) for parsed in pending]),
            keep_lease)
        reviewed = {review.row: review for review in reply.results}
        for parsed in pending:
            review = reviewed.get(parsed.row)
            if review is None:
                parsed.status, parsed.messages = ReviewStatus.invalid.value, [NOT_REVIEWED, *parsed.messages]
                continue
            parsed.status = review.status.value
            parsed.messages = [*review.messages, *parsed.messages]
            if review.match is not None or review.changed:
                parsed.match = {**(review.match.model_dump(mode="json") if review.match else {}),
                                "changed": review.changed}
    async with deps.sessions() as session, session.begin():
        await session.execute(insert(import_rows), [
            {"import_id": job.id, "row": parsed.row, "status": parsed.status, "cells": parsed.cells,
             "values": parsed.values, "match": parsed.match, "messages": parsed.messages, "outcome": None,
             "excluded": False} for parsed in batch])
    await keep_lease(**progress.add(len(batch)))
