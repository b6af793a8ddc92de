"""The six kinds of import of spec §4.1: their columns, how a header line maps to them, how a row is validated.

A column is ``identity`` (who or what the row is about: used to match and to create, never overwritten by a
re-import) or ``variable`` (rights, contact, situation: a re-import overwrites them when the cell is not empty,
spec §4.1 step 4). Error sentences name the column as the file wrote it, so that the uploader finds it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from contracts.imports import BATCH_ROWS

# The closed lists are those of the wire contracts the notebook service validates its commands with (the shared
# contracts library, not the notebook package, which the import service must not import): a code accepted here is
# accepted when applied. v1's import refused two situations its own form offered (aidant_familial,
# exploitant_agricole, spec §2.4); the contract accepts them, so does the import.
from contracts.notebook import EducationLevel, RightRsa, WorkSituation

from data_import.domain.france_travail import EMPTY_CELLS, parse_o_n, parse_referent_email
from data_import.domain import caf_msa
from data_import.domain.values import (Ignored, ValueProblem, normalise_header, one_of, parse_birth_date,
                                       parse_date, parse_email, parse_emails, parse_list, parse_name, parse_nir,
                                       parse_phone, parse_phones, parse_postal_code, parse_rome_labels, parse_siret,
                                       parse_text, parse_uuid, parse_website, parse_yes_no)

Scope = Literal["identity", "variable"]


@dataclass(frozen=True)
class Column:
    header: str  # as in the template, without the "*" of mandatory columns
    field: str
    parse: Callable[[str], Any] = parse_text
    mandatory: bool = False
    scope: Scope = "variable"
    aliases: tuple[str, ...] = ()  # other headers v1's files used for the same column


@dataclass(frozen=True)
class KindSpec:
    kind: str
    columns: tuple[Column, ...]
    ignored: tuple[str, ...] = ()  # known headers that carry nothing, not reported as unknown
    empty_cells: tuple[str, ...] = ()  # cell texts that mean "empty" in this kind's files (France Travail's NULL)
    batch_rows: int = BATCH_ROWS  # rows sent to the owner at once (fewer when a row carries raw data)

    def template_header(self) -> list[str]:
        return [c.header + ("*" if c.mandatory else "") for c in self.columns]


def _identity(header: str, field: str, parse: Callable[[str], Any] = parse_text, mandatory: bool = False,
              aliases: tuple[str, ...] = ()) -> Column:
    return Column(header, field, parse, mandatory, "identity", aliases)


_RIGHT_RSA = one_of(RightRsa, "un droit RSA connu")
_SITUATION = one_of(WorkSituation, "une situation connue")
_EDUCATION = one_of(EducationLevel, "un niveau de formation connu")


def _flux(header: str, parse: Callable[[str], Any] = parse_text, mandatory: bool = False) -> Column:
    """A column of France Travail's extract: its field is its header, "." written "_" (``adr.dc_commune_id``)."""
    return Column(header, header.replace(".", "_"), parse, mandatory)


# Spec §4.3. Every column is kept (the notebook stores the row as France Travail sent it), read as text but the
# ones the import uses.
_FRANCE_TRAVAIL_PRINCIPAL = (
    _flux("identifiant_unique_de", mandatory=True), _flux("civilite"), _flux("nom", parse_name, mandatory=True),
    _flux("prenom", parse_name, mandatory=True), _flux("lieu_naissance"), _flux("code_lieu_naissance"),
    _flux("date_naissance", parse_birth_date, mandatory=True),
    *(_flux(f"adresse_ligne{n}") for n in range(2, 7)), _flux("departement"), _flux("dr"),
    _flux("rome_1"), _flux("appelation_rome_1"), _flux("rome_2"), _flux("appelation_rome_2"),
    _flux("mrech.axetravailprincipal"), _flux("mrech.axetravailsecondaire"), _flux("der_entretien_ppae"),
    _flux("der_entretien"), _flux("inscription"), _flux("code_motif_inscription"), _flux("motif_inscription"),
    _flux("categorie_inscription"), _flux("struct_principale"), _flux("referent_civilite"),
    _flux("referent_nom", parse_name), _flux("referent_prenom", parse_name),
    _flux("referent_mail", parse_referent_email), _flux("code_safir"), _flux("modalite_accompagnement"),
    _flux("struct_suivi"), _flux("suivi_debut"), _flux("suivi_fin_prev"),
    *(_flux(f"dif_{name}") for name in ("financiere", "admin_jur", "sante", "logement", "transport", "inser_com",
                                        "familiale")),
    _flux("brsa", parse_o_n),
)
_FRANCE_TRAVAIL_ACTIONS = (
    _flux("identifiant_unique_de", mandatory=True), _flux("codeaction"), _flux("lblaction", mandatory=True),
    _flux("objectif_formation"), _flux("date_prescription", parse_date, mandatory=True),
    *(_flux(name, parse_date) for name in ("date_realisation_action", "date_prev_debut", "date_debut", "date_fin")),
    _flux("formation"), _flux("adr.dc_commune_id"),
)


KINDS: dict[str, KindSpec] = {spec.kind: spec for spec in (
    KindSpec("beneficiaries", (
        _identity("Identifiant dans le SI", "external_id", mandatory=True),
        _identity("Prénom", "firstname", parse_name, mandatory=True),
        _identity("Nom", "lastname", parse_name, mandatory=True),
        _identity("Date de naissance", "date_of_birth", parse_birth_date, mandatory=True),
        Column("NIR", "nir", parse_nir),
        Column("Lieu de naissance", "place_of_birth"),
        Column("Téléphone", "mobile_numbers", parse_phones),
        Column("Email", "email", parse_email),
        Column("Adresse", "address1"),
        Column("Adresse (complément)", "address2"),
        Column("Code postal", "postal_code", parse_postal_code),
        Column("Ville", "city"),
        Column("Situation", "work_situation", _SITUATION),
        Column("Numéro allocataire CAF/MSA", "caf_number"),
        Column("Identifiant Pôle emploi", "pe_number", aliases=("Identifiant France Travail",)),
        Column("Droits RSA", "right_rsa", _RIGHT_RSA),
        Column("Droits ARE", "right_are", parse_yes_no),
        Column("Droits ASS", "right_ass", parse_yes_no),
        Column("Prime d'activité", "right_bonus", parse_yes_no),
        Column("RQTH", "right_rqth", parse_yes_no),
        Column("Emploi recherché (code ROME)", "rome_labels", parse_rome_labels),
        Column("Niveau de formation", "education_level", _EDUCATION),
        # Used when the beneficiary is created; a re-import does not move them (spec §4.1 steps 3–4).
        _identity("Structure", "structure_name"),
        _identity("Accompagnateurs", "referent_email", parse_email),
    ), ignored=("Zone de mobilité",)),  # in v1's template, never read by v1 (spec §4.1 A)
    KindSpec("structures", (
        _identity("Nom", "name", mandatory=True),
        Column("Description", "short_desc"),
        Column("Téléphones", "phones", parse_phones),
        Column("Adresse", "address1"),
        Column("Adresse (complément)", "address2"),
        Column("Code postal", "postal_code", parse_postal_code, mandatory=True),
        Column("Ville", "city", mandatory=True),
        Column("Site web (URL)", "website", parse_website, aliases=("Site web",)),
        Column("Courriel (email)", "email", parse_email, aliases=("Courriel",)),
        Column("Siret (Luhn)", "siret", parse_siret, aliases=("Siret",)),
        _identity("Courriel responsable", "admin_email", parse_email, mandatory=True),
        Column("Prénom responsable", "admin_firstname", parse_name),
        Column("Nom responsable", "admin_lastname", parse_name),
        Column("Fonction responsable", "admin_position"),
        Column("Téléphones responsable", "admin_phones", parse_phones),
    )),
    # v1 read "Nom" into firstname and "Prénom" into lastname (spec §4.1 C, known bug): each goes to its own field.
    KindSpec("orientation-managers", (
        _identity("Courriel", "email", parse_email, mandatory=True),
        Column("Prénom", "firstname", parse_name),
        Column("Nom", "lastname", parse_name),
        Column("Téléphones", "phones", parse_phones),
    )),
    KindSpec("professionals", (
        _identity("Courriel", "email", parse_email, mandatory=True, aliases=("email",)),
        Column("Prénom", "firstname", parse_name, mandatory=True),
        Column("Nom", "lastname", parse_name, mandatory=True),
        Column("Téléphone", "mobile_number", parse_phone),
        Column("Fonction", "position"),
    )),
    # Headers of the "bénéficiaires en attente" file a structure admin downloads, fills and sends back are aliases.
    KindSpec("referents", (
        _identity("Identifiant Carnet de bord", "notebook_id", parse_uuid, mandatory=True, aliases=("id",)),
        _identity("Prénom", "firstname", parse_name),
        _identity("Nom", "lastname", parse_name),
        _identity("Date de naissance", "date_of_birth", parse_birth_date),
        Column("Accompagnateurs", "referent_emails", parse_emails, mandatory=True,
               aliases=("emails des professionnels",)),
    )),
    KindSpec("reorientations", (
        _identity("Prénom", "firstname", parse_name, mandatory=True),
        _identity("Nom", "lastname", parse_name, mandatory=True),
        _identity("Date de naissance", "date_of_birth", parse_birth_date, mandatory=True),
        Column("Accompagnateurs à ajouter", "referents_to_add", parse_emails),
        Column("Accompagnateurs à supprimer", "referents_to_remove", parse_emails),
        Column("Structures à rattacher", "structure_names", parse_list),
    )),
    # Spec §4.2: one row per foyer of the XML flux (``caf_msa.read_flux`` writes these cells); the foyer's raw data
    # rides beside them, so batches are smaller.
    KindSpec("caf-msa", (
        Column(caf_msa.HEADER[0], "flux_date", caf_msa.parse_flux_date),
        Column(caf_msa.HEADER[1], "caf_number"),
        _identity(caf_msa.HEADER[2], "nirs", caf_msa.parse_nirs),
        Column(caf_msa.HEADER[3], "duties", caf_msa.parse_flags),
        Column(caf_msa.HEADER[4], "right_rsa", caf_msa.parse_right_rsa, mandatory=True),
        Column(caf_msa.HEADER[5], "rsa_suspension_reason", caf_msa.parse_suspension_reason),
        Column(caf_msa.HEADER[6], "rsa_closure_reason", caf_msa.parse_closure_reason),
        Column(caf_msa.HEADER[7], "rsa_closure_date", caf_msa.parse_flux_date),
        Column(caf_msa.HEADER[8], "is_homeless", caf_msa.parse_flag),
    ), batch_rows=caf_msa.FOYERS_PER_BATCH),
    # A principal row carries its 44 columns (~1.5 Ko as JSON): 200 of them keep a batch far under NATS's 1 Mo.
    KindSpec("france-travail-principal", _FRANCE_TRAVAIL_PRINCIPAL, empty_cells=EMPTY_CELLS, batch_rows=200),
    KindSpec("france-travail-actions", _FRANCE_TRAVAIL_ACTIONS, empty_cells=EMPTY_CELLS),
)}


def _quoted(headers: Sequence[str]) -> str:
    return ", ".join(f"« {h} »" for h in headers)


@dataclass(frozen=True)
class HeaderMap:
    kind: str
    positions: dict[str, int]  # field → index of its cell in a row
    headers: dict[str, str]  # field → the header as the file wrote it, without "*" (what messages name)
    width: int  # cells of the header line: a row with more (not empty) was shifted by a separator in a value
    missing: tuple[str, ...] = ()  # mandatory columns absent
    unknown: tuple[str, ...] = ()  # headers that match no column: ignored
    duplicated: tuple[str, ...] = ()  # columns given twice (say "Nom" and "NOM*"): which one to believe?

    @property
    def problem(self) -> str | None:
        """Why no row of the file can be read, or None."""
        sentences = []
        if len(self.missing) == 1:
            sentences.append(f"La colonne obligatoire {_quoted(self.missing)} est absente de la ligne d'en-tête : "
                             "ajoutez-la (voir le modèle de fichier).")
        elif self.missing:
            sentences.append(f"Les colonnes obligatoires {_quoted(self.missing)} sont absentes de la ligne "
                             "d'en-tête : ajoutez-les (voir le modèle de fichier).")
        if self.duplicated:
            sentences.append(f"Colonnes présentes deux fois dans la ligne d'en-tête : {_quoted(self.duplicated)} ; "
                             "gardez-en une seule de chaque.")
        return " ".join(sentences) or None

    @property
    def warnings(self) -> list[str]:
        if self.unknown:
            return [f"Colonnes inconnues, ignorées : {_quoted(self.unknown)}."]
        return []


def match_header(kind: str, header: Sequence[str]) -> HeaderMap:
    spec = KINDS[kind]
    by_name = {normalise_header(name): column for column in spec.columns
               for name in (column.header, *column.aliases)}
    ignored = {normalise_header(name) for name in spec.ignored}
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    unknown, duplicated = [], []
    for index, cell in enumerate(header):
        key = normalise_header(cell)
        column = by_name.get(key)
        if column is None:
            if key and key not in ignored:  # an empty header cell is a trailing ";", not a column
                unknown.append(cell.strip())
        elif column.field in positions:
            duplicated.append(cell.replace("*", "").strip())
        else:
            positions[column.field] = index
            written[column.field] = cell.replace("*", "").replace("\ufeff", "").strip()
    missing = tuple(c.header for c in spec.columns if c.mandatory and c.field not in positions)
    return HeaderMap(kind, positions, written, len(header), missing, tuple(unknown), tuple(duplicated))


@dataclass(frozen=True)
class RowError:
    column: str  # as the file wrote it
    message: str  # the whole French sentence, naming the column


@dataclass(frozen=True)
class ValidRow:
    values: dict[str, Any]  # field → parsed value; None where the cell is empty or its column absent
    warnings: tuple[RowError, ...] = ()


@dataclass(frozen=True)
class InvalidRow:
    cells: dict[str, str]  # field → the cell's text, to show the row as it was
    errors: tuple[RowError, ...] = field(default_factory=tuple)


LONGER_THAN_HEADER = ("Cette ligne a plus de cellules que la ligne d'en-tête n'a de colonnes ({cells} au lieu de "
                      "{columns}) : une valeur contient sans doute le séparateur et décale les suivantes. "
                      "Mettez-la entre guillemets ou retirez le séparateur.")


def validate_row(kind: str, header_map: HeaderMap, cells: Sequence[str]) -> ValidRow | InvalidRow:
    """One row checked against its kind: every bad cell gets its own French sentence."""
    values: dict[str, Any] = {}
    texts: dict[str, str] = {}
    errors: list[RowError] = []
    warnings: list[RowError] = []
    spec = KINDS[kind]
    if len(cells) > header_map.width:  # the reader keeps cells beyond the header only when one is not empty
        errors.append(RowError("", LONGER_THAN_HEADER.format(cells=len(cells), columns=header_map.width)))
    for column in spec.columns:
        index = header_map.positions.get(column.field)
        text = cells[index].strip() if index is not None and index < len(cells) else ""
        if text in spec.empty_cells:
            text = ""
        name = header_map.headers.get(column.field, column.header)
        texts[column.field], values[column.field] = text, None
        if not text:
            if column.mandatory:
                errors.append(RowError(name, f"La colonne « {name} » est obligatoire : indiquez une valeur."))
            continue
        try:
            values[column.field] = column.parse(text)
        except Ignored as note:
            warnings.append(RowError(name, f"« {name} » : {note}"))
        except ValueProblem as problem:
            errors.append(RowError(name, f"« {name} » : {problem}"))
    if errors:
        return InvalidRow(texts, tuple(errors))
    return ValidRow(values, tuple(warnings))
