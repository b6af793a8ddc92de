"""The files of the exports: lines written one by one into a temporary file (CSV, or XLSX in xlsxwriter's
constant-memory mode), then streamed into the object store: 100,000 rows never sit in memory.

CSV is what French Excel and LibreOffice open as they are: UTF-8 with a BOM, ``;``, CRLF, quoted where needed.
XLSX has typed columns (dates as dates shown in French, numbers as numbers, booleans as « oui »/« non »), a bold
frozen header with filters, and widths that fit. Text never runs as a formula: a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading ``'`` in CSV (what spreadsheets read as "this is text"),
and is written as a string cell in XLSX, which no spreadsheet evaluates, with Excel's "quote prefix" (the ``'``
one types before such a text), so that editing the cell keeps it text.
"""
from __future__ import annotations

import csv
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo


from notebook.domain.export_lists import Column, Kind, Sheet

PARIS = ZoneInfo("Europe/Paris")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}
FILE_CHUNK = 128 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575  # below the header


def inert(text: str) -> str:
    """Text a spreadsheet shows as it is, never evaluates (CSV/formula injection): the export echoes what anyone
    typed in a notebook (an action's label, a reason) to whoever opens the file."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def local(moment: datetime) -> datetime:
    """Times are stored in UTC; a French user reads Paris time (naive: spreadsheets have no time zones)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(PARIS).replace(tzinfo=None)


def csv_cell(value: Any, kind: Kind) -> str:
    if value is None or value == "":
        return ""
    if kind == Kind.boolean:
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return local(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if kind == Kind.number:
        return str(value)
    return inert(str(value))


class SheetWriter(Protocol):
    def write(self, line: Sequence[Any]) -> None: ...
    def close(self) -> None: ...


class CsvSheet:
    def __init__(self, path: Path, sheet: Sheet) -> None:
        self.kinds = [c.kind for c in sheet.columns]
        self.file = path.open("w", encoding="utf-8-sig", newline="")
        # QUOTE_MINIMAL quotes a cell holding ``;``, a quote or a line break, and doubles its quotes.
        self.writer = csv.writer(self.file, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self.writer.writerow([c.header for c in sheet.columns])

    def write(self, line: Sequence[Any]) -> None:
        self.writer.writerow([csv_cell(v, k) for v, k in zip(line, self.kinds)])

    def close(self) -> None:
        self.file.close()


class XlsxSheet:
    def __init__(self, path: Path, sheet: Sheet) -> None:
        self.columns: tuple[Column, ...] = sheet.columns
        import xlsxwriter  # at the first XLSX, not at start: an idle service need not hold it

        self.book = xlsxwriter.Workbook(str(path), {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
            "strings_to_urls": False, "in_memory": False})
        self.sheet = self.book.add_worksheet(sheet.title[:31])
        header = self.book.add_format({"bold": True, "bg_color": "#E3E3FD", "text_wrap": True,
                                       "valign": "top"})
        self.quoted = self.book.add_format({"quote_prefix": True})
        self.formats = {Kind.date: self.book.add_format({"num_format": "dd/mm/yyyy"}),
                        Kind.datetime: self.book.add_format({"num_format": "dd/mm/yyyy hh:mm"})}
        for index, column in enumerate(self.columns):
            self.sheet.set_column(index, index, column.width, self.formats.get(column.kind))
            self.sheet.write_string(0, index, column.header, header)
        self.sheet.freeze_panes(1, 0)
        self.row = 0

    def write(self, line: Sequence[Any]) -> None:
        if self.row >= XLSX_MAX_ROWS:
            raise ValueError("Trop de lignes pour une feuille Excel : exportez-les en CSV.")
        self.row += 1
        sheet, row = self.sheet, self.row
        for index, (value, column) in enumerate(zip(line, self.columns)):
            if value is None or value == "":
                continue
            kind = column.kind
            if kind == Kind.boolean:
                sheet.write_string(row, index, "oui" if value else "non")
            elif kind in (Kind.date, Kind.datetime) and isinstance(value, date):
                moment = local(value) if isinstance(value, datetime) else value
                sheet.write_datetime(row, index, moment, self.formats[kind])
            elif kind == Kind.number and isinstance(value, (int, float)):
                sheet.write_number(row, index, value)
            else:
                text = str(value)
                sheet.write_string(row, index, text, self.quoted if text.startswith(FORMULA_STARTS) else None)

    def close(self) -> None:
        self.sheet.autofilter(0, 0, self.row, len(self.columns) - 1)
        self.book.close()


def open_sheet(path: Path, file_format: str, sheet: Sheet) -> SheetWriter:
    return CsvSheet(path, sheet) if file_format == "csv" else XlsxSheet(path, sheet)


def write_all(path: Path, file_format: str, sheet: Sheet, lines: Iterable[Sequence[Any]]) -> int:
    """Writes ``lines`` under the header; the count written. What benchmarks and small exports use."""
    writer = open_sheet(path, file_format, sheet)
    count = 0
    try:
        for line in lines:
            writer.write(line)
            count += 1
    finally:
        writer.close()
    return count


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(FILE_CHUNK):
            yield chunk


async def drain(chunks: AsyncIterable[bytes]) -> int:
    size = 0
    async for chunk in chunks:
        size += len(chunk)
    return size
