"""Reading an uploaded file (CSV, XLS, XLSX, ODS) into a header and a stream of rows of strings.

Pure: bytes or a path in, strings out. Every refusal is a `ReadError` raised by `read_table` itself, before any row
is handed out: `read_table` makes one full pass over the file (decoding, quoting, counting rows) and only then
returns a `Table` whose `rows()` streams the file again, so a caller never applies half a file.

What the cells become (the value parsers of `values.py` read these strings):
- CSV: the text of the cell, trimmed (spaces, tabs, non-breaking spaces at both ends).
- Spreadsheets, by the type calamine gives the cell: text trimmed as above (so an Excel serial date typed as text,
  "36000", stays "36000"); a date `YYYY-MM-DD`; a date-time `YYYY-MM-DD HH:MM:SS` (`YYYY-MM-DD` when at midnight);
  a time `HH:MM:SS`; an integral number without `.0` ("612345670", "185077505612324"); another number with a dot
  ("1.5", Python's shortest round-trip form); a boolean "Oui"/"Non" (the spelling the Oui/Non columns accept);
  an empty cell "".

Row numbers are those a user sees when opening the file in a spreadsheet: the n-th record of the file is row n,
blank lines included, the header usually being row 1 (in a CSV a quoted cell spanning several lines is one row).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple


MEBIBYTE = 1024 * 1024

# 100,000 beneficiary rows of ~350 bytes weigh ~35 Mo: 50 Mo leaves room, and bounds what one upload may cost.
MAX_BYTES = 50 * MEBIBYTE
# The widest v1 file has 25 columns (beneficiaries); 100 is generous and refuses the 10,000-column hostile file.
MAX_COLUMNS = 100
# A 100,000-row XLSX unzips to ~100 Mo of XML; past 300 Mo, or a part compressed over 100 times, it is a zip bomb
# (real sheets compress 5 to 30 times).
MAX_UNZIPPED_BYTES = 300 * MEBIBYTE
MAX_ZIP_RATIO = 100
# calamine allocates the whole rectangle from the first to the last cell at once (a cell at A1 and one at
# XFD1048576 asks for 550 Go and aborts the process): the rectangle is measured before (100,000 rows x 50 columns).
MAX_CELLS = 5_000_000

ACCEPTED_EXTENSIONS = (".csv", ".xls", ".xlsx", ".ods")
# What each detected content is called in messages.
_KIND_LABELS = {
    "csv": "CSV (texte)",
    "xls": "XLS (Excel 97-2003)",
    "xlsx": "XLSX (Excel)",
    "ods": "ODS (LibreOffice)",
    "xlsb": "XLSB (Excel binaire)",
    "zip": "archive ZIP",
    "pdf": "PDF",
    "binary": "binaire (ni texte ni tableur)",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ZIP_MAGIC = b"PK\x03\x04"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Separators tried on the header line, the first winning ties: `;` is what French Excel writes and what v1 used.
_SEPARATORS = (";", ",", "\t")
_SAVE_AS_CSV_UTF8 = "Dans Excel, enregistrez-le au format « CSV UTF-8 (délimité par des virgules) »."


class ReadError(Exception):
    """A file refused as a whole: `message` is shown to the user (French), `code` is for programs and tests."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Row(NamedTuple):
    """One data row: its number in the file and one string per header column (padded with "" when the row is
    short; cells beyond the header are kept only when one of them is not empty, for the validator to report)."""

    number: int
    cells: list[str]


@dataclass(frozen=True)
class Table:
    header: list[str]
    header_row: int
    rows_total: int  # non-empty data rows: known before streaming, for progress
    file_format: str  # csv, xls, xlsx or ods
    encoding: str | None = None  # CSV only: utf-8, utf-16 or cp1252
    separator: str | None = None  # CSV only
    # Each call starts a new pass over the file's records: (row number, trimmed cells).
    _records: Callable[[], Iterator[tuple[int, list[str]]]] = field(default=lambda: iter(()), repr=False)

    def rows(self) -> Iterator[Row]:
        """A fresh pass over the data rows (fully empty rows skipped); may be called again."""
        width = len(self.header)
        for number, cells in self._records():
            if number <= self.header_row or not any(cells):
                continue
            yield Row(number, _fit(cells, width))

    def __iter__(self) -> Iterator[Row]:
        return self.rows()


def read_table(
    source: bytes | Path,
    filename: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_columns: int = MAX_COLUMNS,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
    max_zip_ratio: int = MAX_ZIP_RATIO,
    max_cells: int = MAX_CELLS,
) -> Table:
    """Checks `source` (the upload, named `filename` by the user) as a whole and returns its table, or raises
    ReadError."""
    extension = Path(filename).suffix.lower()
    if extension not in ACCEPTED_EXTENSIONS:
        raise ReadError(
            "unsupported_extension",
            f"Le fichier « {filename} » n'est pas d'un type accepté. Types acceptés : "
            f"{', '.join(ACCEPTED_EXTENSIONS)}.",
        )
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > max_bytes:
        raise ReadError(
            "too_large",
            f"Le fichier « {filename} » pèse {_french(size / MEBIBYTE, '.1f')} Mo, au-delà de la limite de "
            f"{_french(max_bytes / MEBIBYTE)} Mo : découpez-le en plusieurs fichiers.",
        )
    if size == 0:
        raise ReadError("empty", "Le fichier est vide.")
    kind = _detect_kind(source, filename)
    if kind != extension[1:]:
        raise ReadError(
            "wrong_type",
            f"Le fichier « {filename} » porte l'extension {extension} mais son contenu est au format "
            f"{_KIND_LABELS[kind]}, pas {_KIND_LABELS[extension[1:]]} : enregistrez-le au bon format "
            f"(ou renommez-le avec la bonne extension) puis importez-le à nouveau.",
        )
    if kind == "csv":
        encoding, separator, records = _csv_source(source, filename)
    else:
        encoding, separator = None, None
        if kind in ("xlsx", "ods"):
            _check_zip(source, filename, kind, max_unzipped_bytes, max_zip_ratio, max_cells)
        records = _sheet_source(source, filename)
    header_row, header, rows_total = _scan(records, filename, max_columns)
    return Table(header, header_row, rows_total, kind, encoding, separator, records)


# --- Type of the content ---


def _head(source: bytes | Path, size: int) -> bytes:
    with _open_binary(source) as file:
        return file.read(size)


def _detect_kind(source: bytes | Path, filename: str) -> str:
    """The real type of the file from its first bytes, whatever its extension says."""
    head = _head(source, 8192)
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if head.startswith(_ZIP_MAGIC):
        return _zip_kind(source, filename)
    if head.startswith(b"%PDF"):
        return "pdf"
    # UTF-16 text (Excel's « Texte Unicode ») is full of NUL bytes but announces itself with a BOM.
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary"
    return "csv"


def _open_zip(source: bytes | Path, filename: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _corrupt(filename) from error


def _zip_kind(source: bytes | Path, filename: str) -> str:
    with _open_zip(source, filename) as archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "xl/workbook.bin" in names:
            return "xlsb"
        if "mimetype" in names and archive.getinfo("mimetype").file_size < 256:
            if archive.read("mimetype").startswith(_ODS_MIMETYPE):
                return "ods"
    return "zip"


def _french(number: float, spec: str = "g") -> str:
    """A number as French writes it: 10 000 and 2,5."""
    if spec == "g" and float(number).is_integer():
        return f"{int(number):_}".replace("_", "\u202f")
    return format(number, spec).replace(".", ",")


def _corrupt(filename: str) -> ReadError:
    return ReadError(
        "corrupt",
        f"Le fichier « {filename} » est endommagé ou n'est pas un tableur lisible : ouvrez-le dans votre tableur, "
        "enregistrez-le à nouveau puis importez-le.",
    )


# --- Spreadsheets ---

def _check_zip(
    source: bytes | Path, filename: str, kind: str, max_unzipped: int, max_ratio: int, max_cells: int
) -> None:
    """Refuses a zip bomb, and a sheet too vast for calamine, before calamine inflates anything.

    The archive's directory may lie about sizes, so every part is inflated here as calamine's zip reader would
    (from its compressed bytes, not up to its declared size), a bounded chunk at a time, and stopped as soon as it
    outgrows what the directory declared."""
    bomb = ReadError(
        "zip_bomb",
        f"Le fichier « {filename} » se décompresse en un volume démesuré (plus de "
        f"{_french(max_unzipped / MEBIBYTE)} Mo "
        "ou une compression anormale) : il est refusé. Enregistrez à nouveau le tableau depuis votre tableur.",
    )
    with _open_zip(source, filename) as archive:
        parts = archive.infolist()
        if sum(part.file_size for part in parts) > max_unzipped:
            raise bomb
        # Small parts (styles, a few cells) legitimately compress a lot; only big ones are measured.
        if any(part.file_size > MEBIBYTE and part.file_size > max_ratio * max(part.compress_size, 1) for part in parts):
            raise bomb
        cells = 0
        with _open_binary(source) as raw:
            for part in parts:
                extent = _extent_for(part.filename, kind)
                inflated = 0
                try:
                    for chunk in _inflate(raw, part):
                        inflated += len(chunk)
                        if inflated > part.file_size:
                            raise bomb
                        if extent:
                            extent.feed(chunk)
                except (zipfile.BadZipFile, zlib.error, struct.error) as error:
                    raise _corrupt(filename) from error
                if extent:
                    cells = max(cells, extent.cells())
    if cells > max_cells:
        raise ReadError(
            "too_many_cells",
            f"La feuille du fichier « {filename} » s'étend sur plus de {_french(max_cells)} cellules"
            " : supprimez les cellules lointaines (lignes et colonnes vides mais mises en forme) ou "
            "découpez le fichier.",
        )


def _extent_for(name: str, kind: str) -> _XlsxExtent | _OdsExtent | None:
    """The measure of the part if it holds a sheet's cells."""
    if kind == "xlsx" and name.startswith("xl/worksheets/") and name.endswith(".xml"):
        return _XlsxExtent()
    if kind == "ods" and name == "content.xml":
        return _OdsExtent()
    return None


def _open_binary(source: bytes | Path) -> BinaryIO:
    return source.open("rb") if isinstance(source, Path) else io.BytesIO(source)


def _inflate(raw: BinaryIO, part: zipfile.ZipInfo) -> Iterator[bytes]:
    """The part's bytes as a zip reader gets them from its compressed data, whatever size the directory declares."""
    raw.seek(part.header_offset)
    local = raw.read(30)
    if local[:4] != _ZIP_MAGIC:
        raise zipfile.BadZipFile("no local header")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    raw.seek(part.header_offset + 30 + name_length + extra_length)
    compressed = raw.read(part.compress_size)
    if part.compress_type == zipfile.ZIP_STORED:
        yield compressed
        return
    if part.compress_type != zipfile.ZIP_DEFLATED:  # spreadsheets only ever use these two
        raise zipfile.BadZipFile("unexpected compression")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    while compressed and not inflater.eof:
        yield inflater.decompress(compressed, MEBIBYTE)  # at most 1 Mo out per step: a bomb never fills memory
        compressed = inflater.unconsumed_tail


class _XlsxExtent:
    """The rectangle calamine allocates for an XLSX sheet: up to the last row and column holding a cell, cells
    placed by their `r` reference or, without one, right after the previous one."""

    _TAG = re.compile(rb"<(?:\w+:)?(row|c)(?=[\s/>])([^>]*)>")
    _REF = re.compile(rb'\br="([A-Z]{0,3})([0-9]{1,7})"')
    _LEADING_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')

    def __init__(self) -> None:
        self.row = self.column = self.max_row = self.max_column = 0
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        text = self.tail + chunk
        cut = text.rfind(b">") + 1  # tags are read whole: the unfinished end waits for the next chunk
        self.tail, text = text[cut:][-4096:], text[:cut]
        if not self._feed_referenced(text):
            self._feed_any(text)

    def _feed_referenced(self, text: bytes) -> bool:
        """The usual sheet (Excel, LibreOffice, the common libraries): every cell starts with its reference, so the
        largest ones are the extent, found by C loops instead of a Python step per cell (12 s -> 2 s for 100,000
        rows). False when some cell is written otherwise."""
        references = self._LEADING_REF.findall(text)
        plain = text.count(b"<c ") + text.count(b"<c>") + text.count(b"<c/>")
        if len(references) != plain or b":c " in text or b":c>" in text or b":c/>" in text:
            return False
        if references:
            letters, digits = zip(*references)
            widest = max(set(letters), key=lambda name: (len(name), name))  # AA after Z: length first
            self.max_column = max(self.max_column, _column_number(widest))
            self.max_row = max(self.max_row, max(map(int, set(digits))))
            self.row, self.column = int(digits[-1]), _column_number(letters[-1])
        return True

    def _feed_any(self, text: bytes) -> None:
        for tag, attributes in self._TAG.findall(text):
            reference = self._REF.search(attributes)
            if tag == b"row":
                self.row = int(reference.group(2)) if reference else self.row + 1
                self.column = 0
            else:
                self.column = _column_number(reference.group(1)) if reference else self.column + 1
                self.max_row = max(self.max_row, self.row)
                self.max_column = max(self.max_column, self.column)

    def cells(self) -> int:
        return self.max_row * self.max_column


class _OdsExtent:
    """The same for an ODS sheet, whose rows and cells repeat by count (`number-rows-repeated`): LibreOffice pads
    every sheet with a million empty repeated rows, which calamine skips, but a repeated cell with a value is
    allocated as many times as it says. A cell counts as filled unless it is an empty `<…/>` without a value."""

    _TAG = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
    _REPEATED = re.compile(rb'number-(?:rows|columns)-repeated="([0-9]+)"')

    def __init__(self) -> None:
        self.row = self.repeat = self.column = self.last_filled = self.max_row = self.max_column = 0
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        text = self.tail + chunk
        cut = text.rfind(b">") + 1
        self.tail = text[cut:][-4096:]
        for closing, tag, attributes, empty in self._TAG.findall(text[:cut]):
            repeated = self._REPEATED.search(attributes)
            count = int(repeated.group(1)) if repeated else 1
            if tag == b"table" and not closing:
                self.row = 0  # a new sheet
            elif tag == b"table-row" and not closing:
                self.repeat, self.column, self.last_filled = count, 0, 0
                if empty:
                    self.row += count
            elif tag == b"table-row":
                if self.last_filled:
                    self.max_row = max(self.max_row, self.row + self.repeat)
                    self.max_column = max(self.max_column, self.last_filled)
                self.row += self.repeat
            elif tag != b"table" and not closing:
                self.column += count
                if not (empty and b"value-type" not in attributes):
                    self.last_filled = self.column

    def cells(self) -> int:
        return self.max_row * self.max_column


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _sheet_source(source: bytes | Path, filename: str) -> Callable[[], Iterator[tuple[int, list[str]]]]:
    """The first sheet, loaded once by calamine (it reads sheets whole), converted to strings row by row."""
    import python_calamine  # at the first spreadsheet, not at start: an idle service need not hold it

    try:
        if isinstance(source, Path):
            workbook = python_calamine.CalamineWorkbook.from_path(str(source))
        else:
            workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source))
        sheet = workbook.get_sheet_by_index(0)
    except python_calamine.PasswordError as error:
        raise ReadError(
            "password",
            f"Le fichier « {filename} » est protégé par un mot de passe : enregistrez-le sans mot de passe puis "
            "importez-le.",
        ) from error
    except (python_calamine.CalamineError, OSError, ValueError, IndexError) as error:
        raise _corrupt(filename) from error

    def records() -> Iterator[tuple[int, list[str]]]:
        # iter_rows starts at the sheet's first row (row 1), even when the first cells are lower down.
        for index, cells in enumerate(sheet.iter_rows()):
            yield index + 1, [_cell_text(cell) for cell in cells]

    return records


def _cell_text(value: object) -> str:
    """A calamine value as the string documented at the top of this module."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):  # before int: a bool is an int
        return "Oui" if value else "Non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Up to 2**53 a float holds an integer exactly: a 15-digit NIR typed as a number stays whole.
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if value is None:
        return ""
    return str(value).strip()  # a duration (timedelta): rare, shown as Python writes it


# --- CSV ---


def _csv_source(source: bytes | Path, filename: str) -> tuple[str, str, Callable[[], Iterator[tuple[int, list[str]]]]]:
    """Decides the encoding and the separator; the records are then parsed lazily, each call a new pass."""
    encoding = _encoding(source, filename)
    separator = _sniff_separator(source, encoding)

    def records() -> Iterator[tuple[int, list[str]]]:
        with _open_text(source, encoding) as text:
            # Cells are trimmed: spreadsheets and hand-made files pad them with spaces.
            for number, record in enumerate(csv.reader(text, delimiter=separator), start=1):
                yield number, [cell.strip() for cell in record]

    name = {"utf-8-sig": "utf-8"}.get(encoding, encoding)
    return name, separator, records


def _open_text(source: bytes | Path, encoding: str) -> io.TextIOWrapper:
    raw = _open_binary(source)
    # newline="" leaves CRLF, LF and line breaks inside quoted cells to the csv module, as it requires.
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def _encoding(source: bytes | Path, filename: str) -> str:
    """UTF-8 (BOM or not) when the whole file is valid UTF-8, else Windows-1252, else a refusal.

    No statistical guess (charset-normalizer picks Cyrillic or Mac encodings for short French texts): valid UTF-8
    is practically never a Windows-1252 text by accident, and Windows-1252 is what French Excel writes otherwise,
    so this rule never turns « Hélène Çelik » into « HÃ©lÃ¨ne ». Windows-1252 decodes all of latin-1's letters."""
    head = _head(source, 4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[str, ...] = ("utf-16",)
    elif head.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)  # a BOM is a promise: no fallback when it lies
    else:
        candidates = ("utf-8-sig", "cp1252")
    for encoding in candidates:
        if _decodes(source, encoding):
            return encoding
    raise ReadError(
        "encoding",
        f"Le fichier « {filename} » contient des caractères illisibles : son encodage n'est ni UTF-8 ni "
        f"Windows-1252 (latin-1). {_SAVE_AS_CSV_UTF8}",
    )


def _decodes(source: bytes | Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with _open_binary(source) as file:
            while chunk := file.read(MEBIBYTE):
                decoder.decode(chunk)  # the text is dropped: only whether it decodes matters here
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _sniff_separator(source: bytes | Path, encoding: str) -> str:
    """The separator most present on the first non-blank line (the header, whose names hold none of them)."""
    with _open_text(source, encoding) as text:
        for line in text:
            if line.strip():
                return max(_SEPARATORS, key=line.count)  # max keeps the first of equals: `;` when none
    return _SEPARATORS[0]


# --- Header and rows, common to all formats ---


def _scan(
    records: Callable[[], Iterator[tuple[int, list[str]]]], filename: str, max_columns: int
) -> tuple[int, list[str], int]:
    """The full first pass: finds the header, checks it, counts the data rows, and hits any parse error now."""
    header_row, header, rows_total = 0, [], 0
    number = 0
    try:
        for number, cells in records():
            if not any(cells):
                continue
            if header_row:
                rows_total += 1
                continue
            header_row, header = number, _trim_end(cells)
            _check_header(header, filename, max_columns)
    except csv.Error as error:
        raise ReadError(
            "malformed",
            # The csv module's cell limit (128 Ki characters) is only reached by a quote left open.
            f"Ligne {number + 1} du fichier « {filename} » : une cellule ne se termine pas (guillemet « \" » "
            "ouvert et jamais fermé ?). Corrigez la ligne puis importez le fichier à nouveau.",
        ) from error
    if not header_row:
        raise ReadError("empty", "Le fichier est vide.")
    if not rows_total:
        raise ReadError(
            "header_only",
            f"Le fichier « {filename} » ne contient que la ligne d'en-tête : ajoutez une ligne par élément à "
            "importer sous l'en-tête.",
        )
    return header_row, header, rows_total


def _trim_end(cells: list[str]) -> list[str]:
    # A separator at the end of each line (`…;NIR;`) makes an unnamed empty last column: not a column.
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _check_header(header: list[str], filename: str, max_columns: int) -> None:
    if len(header) > max_columns:
        raise ReadError(
            "too_many_columns",
            f"Le fichier « {filename} » a {_french(len(header))} colonnes ; au plus {_french(max_columns)} sont "
            "acceptées. "
            "Gardez seulement les colonnes du modèle.",
        )
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if not name:
            continue  # an unnamed column is ignored, not a duplicate
        key = name.casefold()
        if key in seen:
            raise ReadError(
                "duplicate_column",
                f"La colonne « {name} » apparaît deux fois dans l'en-tête (colonnes {seen[key]} et {position}) : "
                "supprimez ou renommez l'une des deux.",
            )
        seen[key] = position


def _fit(cells: list[str], width: int) -> list[str]:
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    return cells[:width] + _trim_end(cells[width:])
