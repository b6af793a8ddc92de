"""The exports' files: CSV read back with its accents, separators, quotes and line breaks intact and formulas made
inert; XLSX read back with typed cells; 100,000 rows written with flat memory (the file grows, the process does not)."""
from __future__ import annotations

import csv
import io
import os
import tracemalloc
from datetime import UTC, date, datetime

import pytest
from python_calamine import CalamineWorkbook

from contracts.pilotage import ExportList
from notebook.adapters.export_files import inert, write_all
from notebook.domain.export_lists import Column, Kind, Sheet, sheet_of

pytestmark = pytest.mark.unit

SHEET = Sheet(ExportList.beneficiaries, "Bénéficiaires", (
    Column("Nom"), Column("Né le", Kind.date), Column("Vu le", Kind.datetime), Column("Carnets", Kind.number),
    Column("Soumis", Kind.boolean)))
TRICKY = [
    ("Çelik; Hélène", date(1985, 3, 12), datetime(2026, 11, 28, 23, 30, tzinfo=UTC), 3, True),
    ('Le "grand"\nretour', None, None, 0, False),
    ("=1+2", date(2000, 1, 1), None, None, True),
    ("+33 6 12", None, None, 1, False),
    ("-2", None, None, 1, False),
    ("@SUM(A1)", None, None, 1, False),
    ("\tcaché", None, None, 1, False),
]


def test_inert_prefixes_what_a_spreadsheet_would_run():
    assert [inert(v) for v in ("=A1", "+1", "-1", "@x", "\tx", "\rx", "Sète", "")] == [
        "'=A1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "Sète", ""]


def test_csv_is_read_back_intact(tmp_path):
    path = tmp_path / "e.csv"
    assert write_all(path, "csv", SHEET, TRICKY) == len(TRICKY)
    content = path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and content.count(b"\r\n") >= len(TRICKY) + 1
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["Nom", "Né le", "Vu le", "Carnets", "Soumis"]
    # Paris time (UTC+1 in November): the next day.
    assert rows[1] == ["Çelik; Hélène", "12/03/1985", "29/11/2026 00:30", "3", "oui"]
    assert rows[2] == ['Le "grand"\nretour', "", "", "0", "non"]
    assert [r[0] for r in rows[3:]] == ["'=1+2", "'+33 6 12", "'-2", "'@SUM(A1)", "'\tcaché"]


def test_xlsx_is_typed_and_text_never_runs(tmp_path):
    path = tmp_path / "e.xlsx"
    write_all(path, "xlsx", SHEET, TRICKY)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows[0] == ["Nom", "Né le", "Vu le", "Carnets", "Soumis"]
    assert rows[1][0] == "Çelik; Hélène" and rows[1][1] == date(1985, 3, 12)
    assert rows[1][2] == datetime(2026, 11, 29, 0, 30) and rows[1][3] == 3 and rows[1][4] == "oui"
    assert rows[2][0] == 'Le "grand"\nretour' and rows[2][4] == "non"
    assert rows[3][0] == "=1+2"  # a string cell (quote-prefixed): no formula in the file
    with __import__("zipfile").ZipFile(path) as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "autoFilter" in sheet_xml and 'state="frozen"' in sheet_xml


def generated(count: int):
    for n in range(count):
        yield (f"Nom{n}", f"Prénom{n}", date(1980, 1, 1 + n % 28), "Structure", "Référent", "Chargé",
               "Dispositif", "Accompagné", "Droit ouvert et versable", n % 2 == 0, "Signé", date(2027, 1, 1),
               datetime(2026, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), "Saisie", "Emploi, Logement")


def rss_bytes() -> int:
    """The process's resident memory now (Linux): sampled while writing, without tracemalloc's slowdown."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def sampled(lines, every: int, samples: dict[int, int]):
    for n, line in enumerate(lines, start=1):
        yield line
        if n % every == 0:
            samples[n] = rss_bytes()


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="Linux only")
@pytest.mark.parametrize(("file_format", "count"), [("csv", 100_000), ("xlsx", 20_000)])
def test_rows_are_written_with_flat_memory(tmp_path, file_format, count):
    """The rows come from a generator, as the worker's do from the database: after the first tenth, the process
    does not grow (100,000 such rows held in a list would take ~100 MB). XLSX is slower to write (xlsxwriter
    writes ~40,000 cells a second here): 20,000 rows show the same; bench/exports.py writes 100,000."""
    samples: dict[int, int] = {}
    write_all(tmp_path / f"e.{file_format}", file_format, sheet_of(ExportList.beneficiaries),
              sampled(generated(count), count // 10, samples))
    growth = max(samples.values()) - samples[count // 10]
    assert growth < 4 * 1024 ** 2, {n: round(v / 1024 ** 2, 1) for n, v in samples.items()}
    assert (tmp_path / f"e.{file_format}").stat().st_size > count * 50


def test_tracemalloc_bound_of_the_csv_writer(tmp_path):
    """Python's own allocations, counted: 2,000 and 20,000 rows peak alike."""
    peaks = {}
    for count in (2_000, 20_000):
        tracemalloc.start()
        write_all(tmp_path / f"{count}.csv", "csv", sheet_of(ExportList.beneficiaries), generated(count))
        peaks[count] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[20_000] < peaks[2_000] * 1.5 + 256 * 1024 and peaks[20_000] < 2 * 1024 ** 2, peaks


def test_an_export_file_is_named_at_the_time_the_page_shows_in_paris():
    from contracts.pilotage import ExportFormat
    from notebook.domain.export_lists import filename_of

    at = datetime(2026, 11, 29, 12, 20, tzinfo=UTC)  # 13:20 in Paris (winter), 23:30 UTC is the next day there
    assert filename_of(ExportList.appointments, ExportFormat.xlsx, at) == "rendez-vous-2026-11-29-1320.xlsx"
    late = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert filename_of(ExportList.beneficiaries, ExportFormat.csv, late) == "beneficiaires-2026-11-30-0030.csv"
