"""Reading the CAF/MSA RSA flux (issue 16, item 1; spec §4.2): v1's three files, the values each foyer gives the
notebook, and every hostile or malformed XML refused as a whole with a French reason, before any row is handed out.
"""
from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest

from data_import.domain.caf_msa import HEADER, MAX_DEPTH, read_flux, validate_foyers
from data_import.domain.kinds import KINDS, match_header
from data_import.domain.reading import MEBIBYTE, ReadError

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[3]
FIXTURES = REPOSITORY / "shared" / "fixtures" / "cdb-v1"
if not FIXTURES.is_dir():
    FIXTURES = REPOSITORY.parent / "shared" / "fixtures" / "cdb-v1"
FLUX_HEAD = (b'<?xml version="1.0" encoding="windows-1252"?>\n'
             b'<Racine><IdentificationFlux><APPLIEME>CRI</APPLIEME><NUMVERSIONAPPLIEME>6200</NUMVERSIONAPPLIEME>'
             b'<TYPEFLUX>M</TYPEFLUX><NATFLUX>D</NATFLUX><DTCREAFLUX>2022-03-05</DTCREAFLUX>'
             b'<HEUCREAFLUX>01:18:36.0000</HEUCREAFLUX><DTREF>2022-02-28</DTREF></IdentificationFlux>')


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def written(tmp_path: Path, content: bytes, name: str = "flux.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def foyers(path: Path, name: str = "flux.xml") -> list:
    """The foyers of a flux as the import service stores and sends them (validated, packed data unpacked)."""
    table = read_flux(path, name)
    header_map = match_header("caf-msa", table.header)
    assert header_map.problem is None and not header_map.unknown
    parsed = validate_foyers("caf-msa", header_map, [(row.number, row.cells) for row in table.rows()])
    assert len(parsed) == table.rows_total
    return parsed


def unpacked(packed: str) -> dict:
    return json.loads(zlib.decompress(base64.b64decode(packed)))


def refusal(tmp_path: Path, content: bytes, name: str = "flux.xml") -> str:
    with pytest.raises(ReadError) as raised:
        read_flux(written(tmp_path, content, name), name)
    message = raised.value.message
    assert message.startswith(("Le fichier ", "Le flux « "))  # a French sentence about the file
    return message


def test_v1_monthly_flux_gives_two_foyers_and_three_persons(tmp_path):
    first, second = foyers(written(tmp_path, fixture("RSABEM.xml")))
    assert (first.row, first.status, second.row, second.status) == (1, None, 2, None)
    assert dict(zip(HEADER, first.cells)) == {
        "Date du flux (DTCREAFLUX)": "2022-03-05", "Numéro allocataire (MATRICULE)": "205599000000000",
        "NIR": "2820251108030, 1770393050005", "Soumis aux droits et devoirs (TOPPERSDRODEVORSA)": "1, 0",
        "Droit RSA (ETATDOSRSA)": "5", "Motif de suspension (MOTISUSVERSRSA)": "",
        "Motif de clôture (MOTICLORSA)": "PCG", "Date de clôture (DTCLORSA)": "2021-11-30",
        "Sans domicile fixe (TOPSANSDOMFIXE)": "0"}
    values = {k: v for k, v in first.values.items() if k != "foyer"}
    assert values == {"flux_date": "2022-03-05", "caf_number": "205599000000000",
                      "nirs": ["2820251108030", "1770393050005"], "duties": [True, False], "right_rsa": "rsa_clos",
                      "rsa_suspension_reason": None, "rsa_closure_reason": "caf_decision_pcg",
                      "rsa_closure_date": "2021-11-30", "is_homeless": False}
    assert second.values["right_rsa"] == "rsa_droit_ouvert_versement_suspendu"
    assert second.values["rsa_suspension_reason"] == "caf_declaration_ressource_non_fournie"
    assert (second.values["nirs"], second.values["duties"]) == (["2730799404078"], [True])
    # The foyer as it came, with its flux's identification, rides beside the cells (not among them).
    raw = unpacked(first.values["foyer"])
    assert raw["flux"]["DTCREAFLUX"] == "2022-03-05" and raw["flux"]["TYPEFLUX"] == "M"
    assert [p["Identification"]["NOM"] for p in raw["foyer"]["Personne"]] == ["TIFOUR", "KELLER"]
    assert raw["foyer"]["IdentificationRSA"]["Organisme"]["MATRICULE"] == "205599000000000"
    assert all(len(cell) < 40 for cell in first.cells)


def test_v1_reopened_flux_gives_one_open_right(tmp_path):
    [foyer] = foyers(written(tmp_path, fixture("RSABEM-ouvert.xml")))
    assert foyer.values["right_rsa"] == "rsa_droit_ouvert_versable"
    assert foyer.values["rsa_suspension_reason"] is None and foyer.values["rsa_closure_reason"] is None
    assert foyer.values["nirs"] == ["2730799404078"]


def test_v1_invalid_flux_is_refused_by_the_schema(tmp_path):
    """RSABEI_invalid.xml: a foyer without its DonneesAdministratives nor PrestationRSA (no RSA state at all)."""
    message = refusal(tmp_path, fixture("RSABEI_invalid.xml"), "RSABEI_invalid.xml")
    assert "n'est pas un flux CAF/MSA valide" in message and "vrsb0801.xsd" in message


def test_windows_1252_names_are_read_as_written(tmp_path):
    content = fixture("RSABEM.xml").replace(b"<NOM>TIFOUR</NOM>", "<NOM>TIFOUR-HÉLÈNE ÇA</NOM>".encode("cp1252"))
    [first, _second] = foyers(written(tmp_path, content))
    assert unpacked(first.values["foyer"])["foyer"]["Personne"][0]["Identification"]["NOM"] == "TIFOUR-HÉLÈNE ÇA"


def test_codes_of_every_right_and_reason_map_to_the_notebook_values(tmp_path):
    content = fixture("RSABEM.xml").replace(b"<ETATDOSRSA>4</ETATDOSRSA>", b"<ETATDOSRSA>3</ETATDOSRSA>") \
        .replace(b"<MOTISUSVERSRSA>06</MOTISUSVERSRSA>", b"<MOTISUSVERSRSA>CV</MOTISUSVERSRSA>") \
        .replace(b"<MOTICLORSA>PCG</MOTICLORSA>", b"<MOTICLORSA>RSO</MOTICLORSA>") \
        .replace(b"<TOPSANSDOMFIXE>0</TOPSANSDOMFIXE>", b"<TOPSANSDOMFIXE>1</TOPSANSDOMFIXE>", 1)
    first, second = foyers(written(tmp_path, content))
    assert (first.values["rsa_closure_reason"], first.values["is_homeless"]) == ("caf_radie_option_rso", True)
    assert second.values["right_rsa"] == "rsa_droit_ouvert_et_suspendu"
    assert second.values["rsa_suspension_reason"] == "caf_attente_decision_PCG"


def test_an_unknown_suspension_code_is_left_empty_with_a_warning_and_an_unknown_state_is_invalid(tmp_path):
    content = fixture("RSABEM.xml").replace(b"<MOTISUSVERSRSA>06</MOTISUSVERSRSA>",
                                            b"<MOTISUSVERSRSA>ZZ</MOTISUSVERSRSA>") \
        .replace(b"<ETATDOSRSA>5</ETATDOSRSA>", b"<ETATDOSRSA>9</ETATDOSRSA>")
    first, second = foyers(written(tmp_path, content))
    assert first.status == "invalid" and "9" in first.messages[0] and first.values is None
    assert second.status is None and second.values["rsa_suspension_reason"] is None
    assert "ZZ" in second.messages[0]


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("doctype", FLUX_HEAD.replace(b"<Racine>", b'<!DOCTYPE Racine [<!ENTITY x "y">]>\n<Racine>'), "DOCTYPE"),
    ("external entity", FLUX_HEAD.replace(
        b"<Racine>", b'<!DOCTYPE Racine [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<Racine>').replace(
        b"<APPLIEME>CRI</APPLIEME>", b"<APPLIEME>&xxe;</APPLIEME>"), "DOCTYPE"),
    ("billion laughs", b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                       b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                       b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
                       b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
                       b'<Racine><IdentificationFlux>&lol4;</IdentificationFlux></Racine>', "DOCTYPE"),
    ("an entity never declared", FLUX_HEAD.replace(b"<APPLIEME>CRI</APPLIEME>", b"<APPLIEME>&xxe;</APPLIEME>"),
     "bien formé"),
    ("not XML", b"Nom;Prenom\nTIFOUR;Sophie\n", "bien formé"),
    ("truncated", fixture("RSABEM.xml")[:2000], "n'est pas un flux CAF/MSA valide"),
    ("another root", b'<?xml version="1.0"?><Foyers><IdentificationFlux/></Foyers>', "« Racine »"),
    ("first block not IdentificationFlux", FLUX_HEAD.replace(b"<Racine>", b"<Racine><InfosFoyerRSA/>"),
     "IdentificationFlux"),
    ("against the schema", FLUX_HEAD + b"<Inconnu/></Racine>", "vrsb0801.xsd"),
    ("no foyer", FLUX_HEAD + b"<TransmissionFlux><NBTOTDOSRSATRANSM>0</NBTOTDOSRSATRANSM>"
                             b"<NBTOTDOSRSATRANSMANO>0</NBTOTDOSRSATRANSMANO></TransmissionFlux></Racine>", "aucun foyer"),
    ("declared UTF-8 but Windows-1252", fixture("RSABEM.xml").replace(b"windows-1252", b"UTF-8").replace(
        b"TIFOUR", "TIFOURÉ".encode("cp1252")), "bien formé"),
])
def test_hostile_and_malformed_files_are_refused_in_french(tmp_path, name, content, expected):
    assert expected in refusal(tmp_path, content)


def test_fifty_megabytes_of_nesting_are_refused_at_once(tmp_path):
    depth = (49 * MEBIBYTE) // 7
    path = tmp_path / "deep.xml"
    with path.open("wb") as file:
        file.write(FLUX_HEAD + b"<a>" * 1000)
        for _ in range(depth // 100_000):
            file.write(b"<a>" * 100_000)
        for _ in range(depth // 100_000):
            file.write(b"</a>" * 100_000)
    assert path.stat().st_size > 45 * MEBIBYTE
    with pytest.raises(ReadError) as raised:
        read_flux(path, "deep.xml")
    assert f"plus de {MAX_DEPTH} niveaux" in raised.value.message or "vrsb0801.xsd" in raised.value.message


def test_the_file_must_be_xml_non_empty_and_within_the_size_limit(tmp_path):
    assert "n'est pas un fichier XML" in refusal(tmp_path, fixture("RSABEM.xml"), "flux.csv")
    assert refusal(tmp_path, b"") == "Le fichier est vide."
    with pytest.raises(ReadError) as raised:
        read_flux(written(tmp_path, fixture("RSABEM.xml")), "flux.xml", max_bytes=1000)
    assert raised.value.code == "too_large" and "Mo" in raised.value.message


def test_rows_stream_again_on_each_pass_and_batches_are_small(tmp_path):
    table = read_flux(written(tmp_path, fixture("RSABEM.xml")), "flux.xml")
    assert [row.number for row in table.rows()] == [1, 2] == [row.number for row in table.rows()]
    assert KINDS["caf-msa"].batch_rows <= 100
