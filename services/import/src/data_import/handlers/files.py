"""Files the import service leaves in the ``uploads`` bucket for the gateway to stream: an import's per-row report
(``reports/<import_id>.csv|xlsx``) and the template of a kind (``templates/<kind>.csv|xlsx``).

A report is written row by row into a temporary file (XLSX in xlsxwriter's constant-memory mode), then streamed
into the object store: 100,000 rows never sit in memory. Rows to correct come first.
"""
from __future__ import annotations

import asyncio
import csv
import tempfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, or_, select

from contracts.imports import GetImportReportV1, GetImportTemplateV1, ImportObjectReply, ImportState, Outcome
from data_import.adapters.orm import import_rows
from data_import.domain.habilitation import KIND_LABELS
from data_import.domain.kinds import KINDS
from data_import.domain.report import CONTENT_TYPES, ERROR_STATUSES, REPORT_COLUMNS, inert, report_line
from data_import.handlers.caller import caller_of, visible_import
from data_import.handlers.deps import Deps
from data_import.handlers.views import column_names
from servicekit.errors import Conflict
from servicekit.objects import put_stream
from servicekit.rpc import RpcContext

NOT_READ_YET = "Le fichier de cet import n'a pas encore été lu : le rapport sera disponible dans un instant."
PAGE_ROWS = 2000
FILE_CHUNK = 128 * 1024
# Big enough for any report: the uploaded file was at most 50 Mo, its report adds a few columns.
MAX_REPORT_BYTES = 512 * 1024 * 1024


class SheetWriter(Protocol):
    def write(self, line: list[str]) -> None: ...
    def close(self) -> None: ...


class CsvWriter:
    """UTF-8 with a BOM and ``;``: what French Excel opens as it is."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.file, delimiter=";")

    def write(self, line: list[str]) -> None:
        self.writer.writerow([inert(cell) for cell in line])

    def close(self) -> None:
        self.file.close()


class XlsxWriter:
    """Cells written as text (never a formula), the header frozen and filtered, in constant memory."""

    def __init__(self, path: Path, sheet: str) -> None:
        import xlsxwriter  # at the first XLSX, not at start: an idle service need not hold it

        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                                    "strings_to_numbers": False, "strings_to_urls": False})
        self.sheet = self.book.add_worksheet(sheet[:31])
        self.bold = self.book.add_format({"bold": True})
        self.sheet.freeze_panes(1, 0)
        self.lines, self.width = 0, 0

    def write(self, line: list[str]) -> None:
        for column, cell in enumerate(line):
            self.sheet.write_string(self.lines, column, cell, self.bold if self.lines == 0 else None)
        self.width = max(self.width, len(line))
        self.lines += 1

    def close(self) -> None:
        if self.width:
            self.sheet.autofilter(0, 0, max(self.lines - 1, 0), self.width - 1)
        self.book.close()


def writer_for(path: Path, file_format: str, sheet: str) -> SheetWriter:
    return CsvWriter(path) if file_format == "csv" else XlsxWriter(path, sheet)


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(FILE_CHUNK):
            yield chunk


async def store_file(deps: Deps, name: str, path: Path) -> None:
    await put_stream(await deps.store(), name, file_chunks(path), max_bytes=MAX_REPORT_BYTES)


async def report(request: GetImportReportV1, ctx: RpcContext, deps: Deps) -> ImportObjectReply:
    caller = await caller_of(ctx, deps)
    async with deps.sessions() as session:
        job = await visible_import(session, caller, request.import_id)
    if job.state in (ImportState.receiving.value, ImportState.parsing.value):
        raise Conflict(NOT_READ_YET)
    header = list(job.header)
    # Never NULL (an outcome not yet known is ""), so that its negation selects every other row.
    to_correct = or_(import_rows.c.status.in_(ERROR_STATUSES),
                     func.coalesce(import_rows.c.outcome, "") == Outcome.rejected.value)
    name = f"reports/{job.id}.{request.format}"
    with tempfile.TemporaryDirectory(prefix="carnet-report-") as directory:
        path = Path(directory) / f"report.{request.format}"
        writer = writer_for(path, request.format, "Rapport")
        try:
            width = len(header)
            writer.write([*REPORT_COLUMNS, *column_names(header, width)])
            for part in (to_correct, ~to_correct):
                async for rows in pages(deps, job.id, part):
                    await asyncio.to_thread(write_rows, writer, rows, width)
        finally:
            await asyncio.to_thread(writer.close)
        await store_file(deps, name, path)
    stem = Path(job.filename).stem or "import"
    return ImportObjectReply(object_name=name, filename=f"rapport-{stem}.{request.format}",
                             content_type=CONTENT_TYPES[request.format])


async def pages(deps: Deps, import_id, condition) -> AsyncIterator[list]:
    """The import's rows matching ``condition`` in order of their number, a page at a time (by key, not offset)."""
    last = 0
    while True:
        async with deps.sessions() as session:
            rows = (await session.execute(select(
                import_rows.c.row, import_rows.c.status, import_rows.c.outcome, import_rows.c.messages,
                import_rows.c.cells).where(import_rows.c.import_id == import_id, import_rows.c.row > last, condition)
                .order_by(import_rows.c.row).limit(PAGE_ROWS))).all()
        if not rows:
            return
        yield rows
        last = rows[-1].row


def write_rows(writer: SheetWriter, rows: Iterable, width: int) -> None:
    for row in rows:
        cells = list(row.cells)
        writer.write(report_line(row.row, row.status, row.outcome, list(row.messages),
                                 cells + [""] * (width - len(cells))))


async def template(request: GetImportTemplateV1, ctx: RpcContext, deps: Deps) -> ImportObjectReply:
    await caller_of(ctx, deps)  # any signed-in user: a template is no secret, but the bus is not the open web
    name = f"templates/{request.kind.value}.{request.format}"
    with tempfile.TemporaryDirectory(prefix="carnet-template-") as directory:
        path = Path(directory) / f"template.{request.format}"
        writer = writer_for(path, request.format, KIND_LABELS[request.kind].capitalize())
        writer.write(KINDS[request.kind.value].template_header())
        writer.close()
        await store_file(deps, name, path)
    return ImportObjectReply(object_name=name, filename=f"modele-import-{request.kind.value}.{request.format}",
                             content_type=CONTENT_TYPES[request.format])

