"""The CAF/MSA RSA flux (spec §4.2): an XML file (schema ``vrsb0801.xsd``) read into one row per foyer.

The file comes from outside: it is read by lxml with everything that would reach beyond it switched off (no entity
resolved, no DTD loaded, no network, no huge tree), a document type declaration of any kind refused (entity bombs
and external entities live there), elements nested deeper than the schema ever goes refused, and the whole file
validated against the schema while it streams. As ``reading.read_table`` does, ``read_flux`` makes that full pass
first (every refusal is a ``ReadError`` with a French message, before any row is handed out), then each
``rows()`` streams the file again, an ``InfosFoyerRSA`` at a time, each freed once read: memory stays flat.

A row is a foyer. Its cells say what the file says, codes as written (``ETATDOSRSA`` 5, ``MOTICLORSA`` PCG), for
the review and the report; the value parsers below turn them into the notebook's values (spec §2.4 mappings). The
persons are those of the foyer with a NIR, in order: the NIR and ``TOPPERSDRODEVORSA`` cells list them alike. The
foyer as it came (with the flux's identification) travels beside the cells, compressed: the notebook keeps it as
the beneficiary's external data.
"""
from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterator, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # lxml (~5 MB resident) is imported by the first flux read, not at start
    from lxml import etree

from data_import.domain.reading import MAX_BYTES, MEBIBYTE, ReadError, Table
from data_import.domain.values import Ignored, ValueProblem

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "vrsb0801.xsd"
ROOT, FLUX, FOYER = "Racine", "IdentificationFlux", "InfosFoyerRSA"
# The schema nests 8 levels deep; anything much deeper is no flux (and libxml2 stops at 256 anyway).
MAX_DEPTH = 24
# Foyers sent to the notebook in one batch: a foyer and its raw data weigh up to a few kilobytes compressed, so a
# batch stays far under NATS's 1 MB message limit.
FOYERS_PER_BATCH = 100
# A foyer compressed beyond this (hundreds of persons or months) would endanger its batch: refused alone.
MAX_FOYER_BYTES = 8000
# Where each cell of a foyer comes from, relative to ``InfosFoyerRSA``.
SITUATION = "PrestationRSA/SituationDossierRSA/"
HEADER = (
    "Date du flux (DTCREAFLUX)",
    "Numéro allocataire (MATRICULE)",
    "NIR",
    "Soumis aux droits et devoirs (TOPPERSDRODEVORSA)",
    "Droit RSA (ETATDOSRSA)",
    "Motif de suspension (MOTISUSVERSRSA)",
    "Motif de clôture (MOTICLORSA)",
    "Date de clôture (DTCLORSA)",
    "Sans domicile fixe (TOPSANSDOMFIXE)",
)

RIGHT_RSA = {
    "0": "rsa_demande_en_attente", "1": "rsa_refuse", "2": "rsa_droit_ouvert_versable",
    "3": "rsa_droit_ouvert_et_suspendu", "4": "rsa_droit_ouvert_versement_suspendu", "5": "rsa_clos",
    "6": "rsa_clos_anterieur",
}
SUSPENSION_REASONS = {
    "01": "caf_ressources_trop_elevees", "02": "caf_moins_25_sans_personne_charge",
    "03": "caf_activite_non_conforme", "04": "caf_titre_sejour_invalid", "05": "caf_rsa_inferieur_seuil",
    "06": "caf_declaration_ressource_non_fournie", "09": "caf_residence_non_conforme", "19": "caf_pas_isolement",
    "31": "caf_prestation_exclue", "34": "caf_regime_non_conforme", "35": "caf_demande_avantage_vieillesse_absent",
    "36": "caf_titre_sejour_absent", "44": "caf_hospitalisation", "70": "caf_action_non_engagee",
    "78": "caf_surface_ponderee_sup", "84": "caf_droit_eteint", "85": "caf_pas_allocataire",
    "97": "caf_beneficiaire_aah", "AB": "caf_allocataire_absent", "CV": "caf_attente_decision_PCG",
    "CZ": "caf_activite_anterieur_insuffisante", "DA": "caf_activite_anterieure_absente",
    "DB": "caf_etudiant_remuneration_insuffisante", "DC": "caf_activite_anterieure_non_conforme",
}
CLOSURE_REASONS = {
    "PCG": "caf_decision_pcg", "ECH": "caf_echeance", "EFF": "caf_annulation_bascule_rmi", "MUT": "caf_mutation",
    "RGD": "caf_regroupement", "RFD": "caf_radie_fin_droit", "RAU": "caf_radie_autre_motif",
    "RST": "caf_radie_option_rsta", "RSO": "caf_radie_option_rso",
}
_BOOLEANS = {"1": True, "true": True, "0": False, "false": False}
_NIR = re.compile(r"^[0-9][0-9AB]{12}(?:[0-9]{2})?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


# --- the values of a foyer's cells ----------------------------------------------------------------------------

def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",")]


def parse_flux_date(text: str) -> date:
    if not _ISO_DATE.match(text):
        raise ValueProblem(f"« {text} » n'est pas une date AAAA-MM-JJ.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueProblem(f"« {text} » n'est pas une date qui existe.") from None


def parse_nirs(text: str) -> list[str]:
    """The 13 first characters of each person's NIR (spec §4.2: the key, when given, is not checked)."""
    nirs = []
    for item in _items(text):
        nir = item.upper().replace(" ", "")
        if not _NIR.match(nir):
            raise ValueProblem(f"« {item} » n'est pas un NIR (13 caractères, ou 15 avec la clé).")
        nirs.append(nir[:13])
    return nirs


def parse_flag(text: str) -> bool:
    value = _BOOLEANS.get(text.strip().lower())
    if value is None:
        raise ValueProblem(f"« {text} » n'est ni 1 ni 0.")
    return value


def parse_flags(text: str) -> list[bool | None]:
    """One flag per person, None for a person whose flag the foyer does not give."""
    return [parse_flag(item) if item else None for item in _items(text)]


def parse_right_rsa(text: str) -> str:
    right = RIGHT_RSA.get(text.strip())
    if right is None:
        raise ValueProblem(f"« {text} » n'est pas un état de dossier RSA connu (0 à 6).")
    return right


def parse_suspension_reason(text: str) -> str:
    reason = SUSPENSION_REASONS.get(text.strip().upper())
    if reason is None:  # v1 left an unknown code empty too
        raise Ignored(f"le motif « {text} » est inconnu : il n'est pas enregistré.")
    return reason


def parse_closure_reason(text: str) -> str:
    reason = CLOSURE_REASONS.get(text.strip().upper())
    if reason is None:
        raise Ignored(f"le motif « {text} » est inconnu : il n'est pas enregistré.")
    return reason


# --- the foyer as it came -------------------------------------------------------------------------------------

def as_data(element: etree._Element) -> Any:
    """An element as JSON: its text when it has no children, else its children by tag (a list when repeated)."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return (element.text or "").strip()
    data: dict[str, Any] = {}
    for child in children:
        value = as_data(child)
        if child.tag not in data:
            data[child.tag] = value
        elif isinstance(data[child.tag], list):  # values are texts or objects: a list is a repeated tag's
            data[child.tag].append(value)
        else:
            data[child.tag] = [data[child.tag], value]
    return data


def pack(flux: dict[str, Any], foyer: dict[str, Any]) -> str:
    """The foyer and its flux's identification, as the notebook keeps them: canonical JSON, compressed, base64."""
    text = json.dumps({"flux": flux, "foyer": foyer}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return base64.b64encode(zlib.compress(text.encode(), 9)).decode()


# --- reading the file -----------------------------------------------------------------------------------------

@cache
def schema() -> etree.XMLSchema:
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SCHEMA), etree.XMLParser(resolve_entities=False, no_network=True)))


# Nothing beyond the file: no entity resolved, no DTD loaded, no network, libxml2's own limits (depth 256, text
# sizes) kept; comments and processing instructions dropped.
HARDENED = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
                remove_comments=True, remove_pis=True)


def _text(element: etree._Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def foyer_cells(flux: dict[str, Any], foyer: etree._Element) -> list[str]:
    """The cells of ``HEADER`` for one foyer, then (beyond the header) the foyer packed."""
    persons = [p for p in foyer.findall("Personne") if _text(p, "Identification/NIR")]
    duties = [_text(p, "MontantCalculDroitRSAPersonne/TOPPERSDRODEVORSA") for p in persons]
    closure = foyer.find(SITUATION + "FinDroit")
    if closure is None:  # a right closed on an earlier month
        closure = foyer.find(SITUATION + "FinDroitMoisAnterieur")
    cells = [
        str(flux.get("DTCREAFLUX", "")),
        _text(foyer, "IdentificationRSA/Organisme/MATRICULE"),
        ", ".join(_text(p, "Identification/NIR") for p in persons),
        ", ".join(duties) if any(duties) else "",
        _text(foyer, SITUATION + "EtatDossierRSA/ETATDOSRSA"),
        _text(foyer, SITUATION + "SuspensionVersement/MOTISUSVERSRSA"),
        _text(closure, "MOTICLORSA") if closure is not None else "",
        _text(closure, "DTCLORSA") if closure is not None else "",
        _text(foyer, "PrestationRSA/DetailDroitRSA/TroncCommunDroitRSA/TOPSANSDOMFIXE"),
    ]
    return [*cells, pack(flux, as_data(foyer))]


def _refusal(filename: str, problem: str, line: int | None = None) -> ReadError:
    where = f" (vers la ligne {line})" if line else ""
    return ReadError("invalid_flux", f"Le fichier « {filename} » n'est pas un flux CAF/MSA valide{where} : {problem}")


def _free(element: etree._Element) -> None:
    """A foyer read: itself and what came before it let go, so that memory stays flat however long the file."""
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def _check(path: Path, filename: str) -> Iterator[etree._Element]:
    """The checking pass: every element seen as it streams (no document type, the root and its first block as the
    schema says, no deep nesting) and the whole file validated against the schema; yields the foyers."""
    from lxml import etree

    depth, line, flux_seen = 0, 0, False
    try:
        for event, element in etree.iterparse(str(path), events=("start", "end"), schema=schema(), **HARDENED):
            line = element.sourceline or line
            if event == "end":
                depth -= 1
                flux_seen = flux_seen or (depth == 1 and element.tag == FLUX)
                if depth == 1 and element.tag == FOYER:
                    yield element
                    _free(element)
                continue
            depth += 1
            if depth == 1:
                if element.getroottree().docinfo.doctype:
                    raise _refusal(filename, "il contient une déclaration de type de document (DOCTYPE), refusée "
                                             "par sécurité.", line)
                if element.tag != ROOT:
                    raise _refusal(filename, f"son premier élément est « {element.tag} », pas « {ROOT} ».", line)
            elif depth == 2 and not flux_seen and element.tag != FLUX:
                raise _refusal(filename, f"son premier bloc est « {element.tag} », pas « {FLUX} ».", line)
            elif depth > MAX_DEPTH:
                raise _refusal(filename, f"ses éléments s'imbriquent sur plus de {MAX_DEPTH} niveaux.", line)
    except etree.XMLSyntaxError as error:
        detail = error.msg or str(error)
        if detail.startswith("Element '"):  # how libxml2's schema validator words its errors
            problem = f"il ne respecte pas le schéma vrsb0801.xsd du flux (détail technique : {detail})"
        else:
            problem = f"ce n'est pas un fichier XML bien formé (détail technique : {detail})"
        raise _refusal(filename, problem + ".", error.lineno or None) from None
    except OSError as error:
        raise _refusal(filename, f"il n'a pas pu être lu ({error}).", line) from None


def _foyers(path: Path, filename: str) -> Iterator[tuple[etree._Element, dict[str, Any]]]:
    """The reading pass, over a file the checking pass accepted: only the flux's identification and the foyers
    (children of the root) are handed to Python, each foyer with the identification."""
    from lxml import etree

    flux: dict[str, Any] = {}
    try:
        for _event, element in etree.iterparse(str(path), events=("end",), tag=(FLUX, FOYER), **HARDENED):
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue
            if element.tag == FLUX:
                data = as_data(element)
                flux = data if isinstance(data, dict) else {}
                continue
            yield element, flux
            _free(element)
    except (etree.XMLSyntaxError, OSError) as error:  # the file changed since it was checked
        raise _refusal(filename, f"il n'a pas pu être relu ({error}).") from None


def read_flux(source: Path, filename: str, *, max_bytes: int = MAX_BYTES) -> Table:
    """Checks the whole flux (``ReadError`` otherwise) and returns its table of foyers."""
    if Path(filename).suffix.lower() != ".xml":
        raise ReadError("unsupported_extension", f"Le fichier « {filename} » n'est pas un fichier XML : le flux "
                                                 "CAF/MSA est le fichier .xml fourni par la CAF ou la MSA.")
    size = source.stat().st_size
    if size > max_bytes:
        weight = f"{size / MEBIBYTE:.1f}".replace(".", ",")
        raise ReadError("too_large", f"Le fichier « {filename} » pèse {weight} Mo, au-delà de la limite de "
                                     f"{max_bytes // MEBIBYTE} Mo : découpez le flux ou demandez un flux quotidien.")
    if size == 0:
        raise ReadError("empty", "Le fichier est vide.")
    foyers = sum(1 for _foyer in _check(source, filename))
    if not foyers:
        raise ReadError("header_only", f"Le flux « {filename} » ne contient aucun foyer (InfosFoyerRSA).")

    def records() -> Iterator[tuple[int, list[str]]]:
        for number, (foyer, flux) in enumerate(_foyers(source, filename), start=1):
            yield number, foyer_cells(flux, foyer)

    return Table(list(HEADER), 0, foyers, "xml", None, None, records)


# --- a batch of foyers validated ------------------------------------------------------------------------------

def validate_foyers(kind: str, header_map, rows: Sequence[tuple[int, list[str]]]) -> list:
    """As ``validation.validate_rows`` for the cells of ``HEADER``, each valid foyer's packed data added to its
    values (and kept out of its cells: the review and the report show what the file says, not the raw foyer)."""
    # Imported here: validation imports the kinds, whose CAF/MSA columns are this module's parsers.
    from data_import.domain.validation import validate_rows

    width = len(HEADER)
    batch = validate_rows(kind, header_map, [(number, cells[:width]) for number, cells in rows])
    for parsed, (_number, cells) in zip(batch, rows):
        packed = cells[width] if len(cells) > width else ""
        if parsed.values is None:
            continue
        if len(packed) > MAX_FOYER_BYTES:
            parsed.status, parsed.values = "invalid", None
            parsed.messages = ["Ce foyer est trop volumineux pour être importé : signalez-le.", *parsed.messages]
            continue
        parsed.values["foyer"] = packed
    return batch
