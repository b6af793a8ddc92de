"""Reading uploaded files (issue 15, items 3 and 7): formats, encodings, separators, and every refused input.

The hostile files are built here, small: the zip bomb is 200 Mo of zeros compressed to ~200 Ko."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data_import.domain.reading import MEBIBYTE, ReadError, Table, read_table

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[3]
# v1's files live in shared/, inside the checkout (on the device machine) or next to it (../shared, as the issue says).
FIXTURES = REPOSITORY / "shared" / "fixtures" / "cdb-v1"
if not FIXTURES.is_dir():
    FIXTURES = REPOSITORY.parent / "shared" / "fixtures" / "cdb-v1"

BENEFICIARY_HEADER = [
    "Identifiant dans le SI*", "Prénom*", "Nom*", "Date de naissance*", "NIR", "Lieu de naissance", "Téléphone",
    "Email", "Adresse", "Adresse (complément)", "Code postal", "Ville", "Situation", "Numéro allocataire CAF/MSA",
    "Identifiant Pôle emploi", "Droits RSA", "Droits ARE", "Droits ASS", "Prime d'activité", "RQTH",
    "Zone de mobilité", "Emploi recherché (code ROME)", "Niveau de formation", "Structure", "Accompagnateurs",
]  # fmt: skip
STRUCTURE_HEADER = [
    "Nom", "Description", "Téléphones", "Adresse", "Adresse (complément)", "Code postal", "Ville", "Site web",
    "Courriel", "Siret", "Courriel responsable", "Prénom responsable", "Nom responsable", "Fonction responsable",
    "Téléphones responsable",
]  # fmt: skip
ORIENTATION_HEADER = ["Courriel*", "Prénom", "Nom", "Téléphones"]
REORIENTATION_HEADER = [
    "Prénom*", "Nom*", "Date de naissance*", "Accompagnateurs à ajouter", "Accompagnateurs à supprimer",
    "Structures à rattacher",
]  # fmt: skip

# Counted once by hand (non-blank lines minus the header); the header as written in each file.
FIXTURE_TABLES = {
    "actions_example.csv": (11, "identifiant_unique_de", "adr.dc_commune_id", 125),
    "beneficiaires_en_attente.csv": (5, "id", "emails des professionnels", 1),
    "e2e_import_charges_orientation.xlsx": (ORIENTATION_HEADER, 4),
    "e2e_import_structures.csv": (STRUCTURE_HEADER, 2),
    "i03300c.j.extract_spie_carnet_spie_carnet_de_bord_principal.csv": (44, "identifiant_unique_de", None, 4),
    "import_beneficiaires.csv": (BENEFICIARY_HEADER, 4),
    "import_beneficiaires_buggy.csv": (BENEFICIARY_HEADER, 3),
    "import_beneficiaires_partial.csv": (BENEFICIARY_HEADER[:5], 4),  # `NIR;`: the trailing empty column is dropped
    "import_beneficiaires_with_all_date_formats.csv": (BENEFICIARY_HEADER, 4),
    "import_charges_orientation.csv": (ORIENTATION_HEADER, 4),
    "import_charges_orientation.xls": (ORIENTATION_HEADER, 2),
    "import_charges_orientation.xlsx": (ORIENTATION_HEADER, 2),
    "import_professionnels.csv": (["email", "prénom", "nom", "téléphone", "fonction"], 2),  # `id; nom; …`: trimmed
    "import_reorientation_change_referent.csv": (REORIENTATION_HEADER, 1),
    "import_reorientation_change_referent_same_structure.csv": (REORIENTATION_HEADER, 1),
    "import_reorientation_change_structure.csv": (REORIENTATION_HEADER, 1),
    "import_reorientation_deactivate_referent.csv": (REORIENTATION_HEADER, 1),
    "import_structures.csv": (STRUCTURE_HEADER, 2),
    "import_structures_buggy.csv": (STRUCTURE_HEADER, 4),
    "import_structures_missing_key.csv": ([name for name in STRUCTURE_HEADER if name != "Siret"], 2),
    "re_import_beneficiaires.csv": (BENEFICIARY_HEADER, 2),
}


def read(data: bytes, filename: str = "fichier.csv", **limits: int) -> Table:
    return read_table(data, filename, **limits)


def rows_of(table: Table) -> list[tuple[int, list[str]]]:
    return [(row.number, row.cells) for row in table.rows()]


def refused(data: bytes | Path, filename: str = "fichier.csv", **limits: int) -> ReadError:
    with pytest.raises(ReadError) as caught:
        read_table(data, filename, **limits)
    return caught.value


# --- Spreadsheets built by hand (no writer library is installed, and these stay a few hundred bytes) ---


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xlsx(rows: list[list[object]], first_row: int = 1, extra_xml: str = "") -> bytes:
    """A minimal workbook; a cell ("date", serial) is a number styled as a date (format 14)."""
    xml_rows = []
    for number, row in enumerate(rows, start=first_row):
        cells = []
        for index, value in enumerate(row):
            ref = f"{column_letters(index)}{number}"
            if value is None:
                continue
            if isinstance(value, tuple):
                cells.append(f'<c r="{ref}" s="1"><v>{value[1]}</v></c>')
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, (int, float)):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
        xml_rows.append(f'<row r="{number}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{relationships}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{relationships}"><sheets>'
            '<sheet name="Feuil1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{relationships}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{relationships}/styles" Target="styles.xml"/></Relationships>'
        ),
        "xl/styles.xml": (
            f'<styleSheet xmlns="{main}"><cellXfs count="2"><xf numFmtId="0"/>'
            '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData>{"".join(xml_rows)}{extra_xml}</sheetData></worksheet>'
        ),
    }
    return zip_of(parts)


def zip_of(parts: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def ods(rows: list[list[str]]) -> bytes:
    table = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>' for v in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Feuille1">{table}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# --- Every v1 file ---


@pytest.mark.parametrize("name", sorted(FIXTURE_TABLES))
def test_every_v1_file_opens_with_its_header_and_row_count(name: str) -> None:
    expected = FIXTURE_TABLES[name]
    table = read_table(FIXTURES / name, name)
    rows = list(table.rows())
    if len(expected) == 4:  # wide files: width, first and last name
        width, first, last, count = expected
        assert (len(table.header), table.header[0]) == (width, first)
        assert last is None or table.header[-1] == last
    else:
        header, count = expected
        assert table.header == header
    assert table.rows_total == len(rows) == count
    assert [row.number for row in rows] == list(range(2, count + 2))
    assert all(len(row.cells) == len(table.header) for row in rows)
    assert table.file_format == Path(name).suffix[1:]


def test_every_v1_file_is_listed() -> None:
    on_disk = {path.name for path in FIXTURES.iterdir() if path.suffix not in (".xml", ".xsd")}
    assert on_disk == set(FIXTURE_TABLES)


def test_v1_spreadsheet_cells_are_trimmed_strings() -> None:
    table = read_table(FIXTURES / "import_charges_orientation.xls", "import_charges_orientation.xls")
    assert rows_of(table)[1] == (3, ["cyane@cd26.fr", "Cyane", "Cimanca", "0612345670\xa0, 0812345670"])


# --- CSV: encodings, separators, layout ---

NAMES = "Nom;Prénom\r\nÇelik;Hélène\r\n"


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (NAMES.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + NAMES.encode("utf-8"), "utf-8"),
        (NAMES.encode("cp1252"), "cp1252"),
        (NAMES.encode("utf-16"), "utf-16"),  # Excel's « Texte Unicode »
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "utf-16-bom"],
)
def test_accented_names_stay_intact_whatever_the_encoding(encoded: bytes, encoding: str) -> None:
    table = read(encoded)
    assert (table.header, rows_of(table), table.encoding) == (["Nom", "Prénom"], [(2, ["Çelik", "Hélène"])], encoding)


def test_cp1252_only_characters_are_read_as_windows_1252() -> None:
    table = read("Nom;Note\nŒuvre;« 10 € »\n".encode("cp1252"))
    assert rows_of(table) == [(2, ["Œuvre", "« 10 € »"])]


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_separator_is_sniffed_on_the_header(separator: str) -> None:
    lines = [["Nom", "Prénom", "Ville"], ["Çelik", "Hélène", '"Paris; 12e, Nord"']]
    text = "".join(separator.join(line) + "\n" for line in lines)
    table = read(text.encode())
    assert (table.separator, table.header) == (separator, ["Nom", "Prénom", "Ville"])
    assert rows_of(table) == [(2, ["Çelik", "Hélène", "Paris; 12e, Nord"])]


def test_layout_crlf_lf_blank_lines_quotes_and_padding() -> None:
    text = (
        "\r\n"  # a blank first line: the header is row 2
        " Nom ; Prénom ;Ville;\r\n"
        '"Çelik";" Hélène ";"Saint-Denis\nCedex"\n'  # a quoted line break stays in its cell, the row is one row
        ";;;\r\n"  # a fully empty row is skipped
        "Martin;Jean\n"  # short row: padded
        "Durand;Léa;Lyon;;;\n"  # empty cells past the header: dropped
        "Petit;Paul;Nice;surplus\n"  # a non-empty cell past the header: kept for the validator
        "\r\n\n\n"
    )
    table = read(text.encode())
    assert (table.header, table.header_row, table.rows_total) == (["Nom", "Prénom", "Ville"], 2, 4)
    assert rows_of(table) == [
        (3, ["Çelik", "Hélène", "Saint-Denis\nCedex"]),
        (5, ["Martin", "Jean", ""]),
        (6, ["Durand", "Léa", "Lyon"]),
        (7, ["Petit", "Paul", "Nice", "surplus"]),
    ]


def test_rows_are_streamed_from_the_file_and_may_be_read_again(tmp_path: Path) -> None:
    path = tmp_path / "grand.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("Nom;Numéro\n")
        file.writelines(f"Personne;{number}\n" for number in range(100_000))
    table = read_table(path, path.name)
    rows = table.rows()
    assert isinstance(rows, Iterator)  # a generator over the file, not a list of 100,000 rows
    assert next(rows) == (2, ["Personne", "0"])
    assert table.rows_total == 100_000
    assert sum(1 for _ in table.rows()) == 100_000


# --- Spreadsheet values ---


def test_xlsx_values_become_the_documented_strings() -> None:
    data = xlsx(
        [
            ["Nom", "Naissance", "NIR", "Téléphone", "Taux", "RQTH", "Date en texte", "Vide"],
            [" Çelik ", ("date", 36000), 185077505612324, 612345670.0, 1.5, True, "36000", None],
            ["Hélène", ("date", "36000.5"), 12, -3, 0.1, False, "25/05/1998", ""],
        ],
        first_row=3,  # two empty rows above the header: numbers stay those of the sheet
    )
    table = read(data, "tableau.xlsx")
    assert (table.header_row, table.file_format) == (3, "xlsx")
    assert rows_of(table) == [
        (4, ["Çelik", "1998-07-24", "185077505612324", "612345670", "1.5", "Oui", "36000", ""]),
        (5, ["Hélène", "1998-07-24 12:00:00", "12", "-3", "0.1", "Non", "25/05/1998", ""]),
    ]


def test_ods_first_sheet_is_read() -> None:
    table = read(ods([["Nom", "Prénom"], ["Çelik", "Hélène"]]), "tableau.ods")
    assert (table.file_format, table.header, rows_of(table)) == ("ods", ["Nom", "Prénom"], [(2, ["Çelik", "Hélène"])])


# --- Refused inputs: one ReadError, with a French message, before any row ---


def test_unknown_extension_lists_the_accepted_ones() -> None:
    error = refused(b"Nom\nX\n", "fichier.txt")
    assert error.code == "unsupported_extension"
    assert ".csv, .xls, .xlsx, .ods" in error.message


@pytest.mark.parametrize(
    ("data", "filename", "named"),
    [
        (xlsx([["Nom"], ["X"]]), "fichier.csv", ("extension .csv", "XLSX (Excel)", "pas CSV (texte)")),
        (b"Nom;Prenom\nX;Y\n", "fichier.xlsx", ("extension .xlsx", "CSV (texte)", "pas XLSX (Excel)")),
        ((FIXTURES / "import_charges_orientation.xls").read_bytes(), "f.xlsx", ("XLS (Excel 97-2003)", "pas XLSX")),
        (xlsx([["Nom"], ["X"]]), "fichier.xls", ("XLSX (Excel)", "pas XLS (Excel 97-2003)")),
        (zip_of({"word/document.xml": "<w/>"}), "fichier.xlsx", ("archive ZIP",)),
        (b"%PDF-1.7\n...", "fichier.csv", ("PDF",)),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "fichier.csv", ("binaire",)),
    ],
    ids=["xlsx-as-csv", "csv-as-xlsx", "xls-as-xlsx", "xlsx-as-xls", "docx-as-xlsx", "pdf", "image"],
)
def test_content_not_matching_the_extension_is_refused_naming_both(data: bytes, filename: str, named: tuple) -> None:
    error = refused(data, filename)
    assert error.code == "wrong_type"
    for words in named:
        assert words in error.message


@pytest.mark.parametrize(
    "data", [b"", b"\r\n\n  \n", codecs.BOM_UTF8, b";;;\n;;\n"], ids=["0-byte", "blank", "bom", "separators"]
)
def test_empty_file(data: bytes) -> None:
    error = refused(data)
    assert (error.code, error.message) == ("empty", "Le fichier est vide.")


def test_empty_spreadsheet() -> None:
    assert refused(xlsx([]), "vide.xlsx").code == "empty"


@pytest.mark.parametrize(
    ("data", "filename"), [(b"Nom;Prenom\r\n;\r\n\r\n", "f.csv"), (xlsx([["Nom", "Prénom"]]), "f.xlsx")]
)
def test_only_a_header(data: bytes, filename: str) -> None:
    error = refused(data, filename)
    assert error.code == "header_only"
    assert "ne contient que la ligne d'en-tête" in error.message


def test_over_the_size_limit_says_the_limit_in_mo(tmp_path: Path) -> None:
    path = tmp_path / "gros.csv"
    path.write_bytes(b"Nom\n" + b"X\n" * (MEBIBYTE + 10))
    error = refused(path, "gros.csv", max_bytes=2 * MEBIBYTE)
    assert error.code == "too_large"
    assert "pèse 2,0 Mo, au-delà de la limite de 2 Mo" in error.message
    assert "limite de 0,5 Mo" in refused(path, "gros.csv", max_bytes=MEBIBYTE // 2).message


def test_ten_thousand_columns() -> None:
    header = ";".join(f"Colonne {number}" for number in range(10_000))
    error = refused(f"{header}\n{';' * 9_999}x\n".encode())
    assert error.code == "too_many_columns"
    assert "10\u202f000 colonnes" in error.message and "au plus 100 sont acceptées" in error.message


@pytest.mark.parametrize(
    "data",
    [codecs.BOM_UTF8 + "Nom\nHélène\n".encode("cp1252"), "Nom\nHélène\n".encode() + b"\x81\x8d\n"],
    ids=["bom-that-lies", "neither-utf8-nor-cp1252"],
)
def test_undecodable_text(data: bytes) -> None:
    error = refused(data)
    assert error.code == "encoding"
    assert "ni UTF-8 ni Windows-1252" in error.message and "CSV UTF-8" in error.message


def test_duplicate_header_names() -> None:
    error = refused("Nom;Prénom;nom \nA;B;C\n".encode())
    assert error.code == "duplicate_column"
    assert "« nom »" in error.message and "colonnes 1 et 3" in error.message


def test_unclosed_quote_names_the_line() -> None:
    error = refused(('Nom;Note\nA;ok\nB;"jamais fermé\n' + "C;suite\n" * 20_000).encode())
    assert error.code == "malformed"
    assert "Ligne 3" in error.message


def test_zip_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    # 200 Mo of zeros inside a valid-looking workbook: ~200 Ko on disk, refused from the zip directory alone.
    path = tmp_path / "bombe.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        workbook = zipfile.ZipFile(io.BytesIO(xlsx([["Nom"], ["X"]])))
        for name in workbook.namelist():
            archive.writestr(name, workbook.read(name))
        with archive.open("xl/media/zeros.bin", "w", force_zip64=True) as part:
            zeros = bytes(MEBIBYTE)
            for _ in range(200):
                part.write(zeros)
    assert path.stat().st_size < 1024 * 1024
    error = refused(path, "bombe.xlsx")
    assert error.code == "zip_bomb"
    assert "décompresse" in error.message


def test_zip_over_the_unzipped_limit() -> None:
    data = xlsx([["Nom"], *[[f"Personne {number}"] for number in range(2_000)]])
    assert refused(data, "f.xlsx", max_unzipped_bytes=20_000).code == "zip_bomb"


def test_sparse_cell_bomb_is_refused_before_calamine_allocates_it() -> None:
    # One cell at A1 and one at XFD1048576: calamine would allocate 17 billion cells and abort the process.
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>loin</t></is></c></row>'
    error = refused(xlsx([["Nom"], ["X"]], extra_xml=far), "f.xlsx")
    assert error.code == "too_many_cells"


def with_declared_size(data: bytes, name: str, size: int) -> bytes:
    """The archive with `name` claiming `size` bytes once inflated, in its local header and in the directory."""
    patched = bytearray(data)
    struct.pack_into("<I", patched, zipfile.ZipFile(io.BytesIO(data)).getinfo(name).header_offset + 22, size)
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name.encode():
        entry = data.index(b"PK\x01\x02", entry + 1)
    struct.pack_into("<I", patched, entry + 24, size)
    return bytes(patched)


def test_zip_bomb_whose_directory_lies_about_sizes() -> None:
    # The sheet says 300 bytes but inflates to 20 Mo: the directory alone would let it through.
    sheet = xlsx([["Nom"], ["X"]], extra_xml=" " * (20 * MEBIBYTE))
    data = with_declared_size(sheet, "xl/worksheets/sheet1.xml", 300)
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size == 300
    assert refused(data, "f.xlsx").code == "zip_bomb"


def test_xlsx_cells_without_references_are_measured_in_sequence() -> None:
    wide = "<row>" + "<c><v>1</v></c>" * 300 + "</row>"
    data = xlsx([["Nom"], ["X"]], extra_xml=wide * 40)
    assert refused(data, "f.xlsx", max_cells=10_000).code == "too_many_cells"
    assert read(data, "f.xlsx", max_cells=12_600, max_columns=300).rows_total == 41


def ods_repeated(rows: int, columns: int, value: bool) -> bytes:
    """An ODS whose second row is one cell repeated `columns` times, the row repeated `rows` times."""
    data = ods([["Nom"], ["X"]])
    cell = (
        f'<table:table-cell office:value-type="string" table:number-columns-repeated="{columns}">'
        "<text:p>x</text:p></table:table-cell>"
        if value
        else f'<table:table-cell table:number-columns-repeated="{columns}"/>'
    )
    archive = zipfile.ZipFile(io.BytesIO(data))
    content = archive.read("content.xml").decode().replace(
        "</table:table>", f'<table:table-row table:number-rows-repeated="{rows}">{cell}</table:table-row></table:table>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for name in archive.namelist():
            rebuilt.writestr(name, content if name == "content.xml" else archive.read(name))
    return buffer.getvalue()


def test_ods_repeated_cells_bomb() -> None:
    # 1,000 x 1,000 repeated cells: calamine allocates them all (135 Mo here, 2.4 Go for 20,000 rows).
    assert refused(ods_repeated(1_000, 1_000, value=True), "f.ods", max_cells=100_000).code == "too_many_cells"


def test_ods_padding_of_libreoffice_is_not_a_bomb() -> None:
    # LibreOffice ends each sheet with ~1M empty repeated rows of 1,024 empty cells: nothing calamine allocates.
    table = read(ods_repeated(1_048_574, 1_024, value=False), "f.ods")
    assert (table.header, rows_of(table)) == (["Nom"], [(2, ["X"])])


@pytest.mark.parametrize(
    "data",
    [
        xlsx([["Nom"], ["X"]])[:300],  # truncated download
        zip_of({"xl/workbook.xml": "<pas du xml", "[Content_Types].xml": "<Types/>"}),
        b"\xd0\xcf\x11\xe0" + bytes(600),
    ],
    ids=["truncated-zip", "broken-xml", "broken-ole"],
)
def test_corrupt_spreadsheet(data: bytes) -> None:
    filename = "f.xls" if data.startswith(b"\xd0") else "f.xlsx"
    error = refused(data, filename)
    assert error.code == "corrupt"
    assert "endommagé" in error.message


# --- Property: any table written as CSV reads back identical ---

SEPARATORS = ";,\t"
# Printable cells, line breaks inside included (quoted by the writer); trimmed, as the reader trims.
CELL = st.text(
    st.characters(codec="cp1252", categories=("L", "N", "P", "S", "Zs"), include_characters="\n"), max_size=12
).map(str.strip)
# Header names hold no separator (spreadsheets' never do): the separator is then the only one on the header line.
HEADER_NAMES = st.lists(
    CELL.filter(lambda name: name and not any(char in name for char in SEPARATORS + "\n")),
    min_size=2,
    max_size=6,
    unique_by=str.casefold,
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    header = draw(HEADER_NAMES)
    row = st.lists(CELL, min_size=len(header), max_size=len(header)).filter(any)
    return header, draw(st.lists(row, min_size=1, max_size=8))


@settings(max_examples=300, deadline=None)
@given(
    table=tables(),
    separator=st.sampled_from(SEPARATORS),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_any_csv_table_reads_back_identical(
    table: tuple[list[str], list[list[str]]], separator: str, encoding: str, line_end: str
) -> None:
    header, body = table
    text = io.StringIO()
    csv.writer(text, delimiter=separator, lineterminator=line_end).writerows([header, *body])
    result = read(text.getvalue().encode(encoding))
    assert (result.header, result.separator) == (header, separator)
    assert rows_of(result) == [(number, cells) for number, cells in enumerate(body, start=2)]


def test_values_dates_are_python_dates_sanity() -> None:
    # The documented date form is what date.fromisoformat reads, so values.py can rely on it.
    table = read(xlsx([["Naissance"], [("date", 1)]]), "f.xlsx")
    assert dt.date.fromisoformat(rows_of(table)[0][1][0]) == dt.date(1900, 1, 1)
