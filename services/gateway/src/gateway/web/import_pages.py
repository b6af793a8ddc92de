"""Import pages: the kinds a role may import with their templates and upload forms, the history, then one import's
progress, review (choose the rows, apply) and report. The upload streams through ``api.imports.receive_import``,
as the API's does."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from contracts.base import ErrorCode
from contracts.directory import GetStructureV1
from contracts.identity import Role
from contracts.imports import (
    ApplyImportV1,
    GetImportV1,
    ImportKind,
    ImportRowView,
    ImportState,
    ImportView,
    ListImportRowsV1,
    ListImportsV1,
    Outcome,
    ReviewStatus,
)
from gateway.api.imports import Exclusions, receive_import
from gateway.bus import call
from gateway.web.common import (
    LeavePage, Visitor, VisitorDep, call_or_leave, error_page, posting, redirect, refusal, render,
)
from gateway.web.common import form_text as text
from gateway.web.csrf import check_csrf
from gateway.web.forms import parse_form
from servicekit.errors import Forbidden, Invalid, ServiceError

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    ImportKind.beneficiaries: "Bénéficiaires",
    ImportKind.structures: "Structures",
    ImportKind.orientation_managers: "Chargés d'orientation",
    ImportKind.reorientations: "Réorientations",
    ImportKind.professionals: "Professionnels",
    ImportKind.referents: "Rattachements (référents des bénéficiaires)",
    ImportKind.caf_msa: "Flux CAF/MSA (XML)",
    ImportKind.france_travail_principal: "Flux France Travail — principal",
    ImportKind.france_travail_actions: "Flux France Travail — actions",
}
KIND_HINTS = {
    ImportKind.beneficiaries: "Nouveaux bénéficiaires, ou mise à jour des droits, contacts et situation des "
                              "bénéficiaires déjà présents.",
    ImportKind.structures: "Les structures du territoire et leurs administrateurs.",
    ImportKind.orientation_managers: "Les chargés d'orientation du territoire.",
    ImportKind.reorientations: "Changer le référent ou la structure de bénéficiaires déjà suivis.",
    ImportKind.professionals: "Les professionnels de la structure : chacun reçoit un e-mail de création de compte.",
    ImportKind.referents: "Les référents à rattacher aux bénéficiaires de la structure.",
    ImportKind.caf_msa: "Le fichier de flux (mensuel ou quotidien) fourni par la CAF ou la MSA : met à jour les droits "
                        "RSA des bénéficiaires de votre territoire, retrouvés par leur NIR. Vous recevez un "
                        "récapitulatif par courriel une fois l'import terminé.",
    ImportKind.france_travail_principal: "Le fichier « principal » de France Travail : identifiant, projets "
                                         "professionnels et référent France Travail des bénéficiaires au RSA déjà "
                                         "présents sur le territoire.",
    ImportKind.france_travail_actions: "Le fichier « actions » de France Travail : les actions menées avec les "
                                       "bénéficiaires, ajoutées à l'historique de leur carnet (importez d'abord le "
                                       "fichier principal).",
}
# Who imports what from the pages (a manager imports professionals through the API, naming the structure).
KINDS_BY_ROLE = {
    Role.manager: (ImportKind.beneficiaries, ImportKind.structures, ImportKind.orientation_managers,
                   ImportKind.reorientations, ImportKind.caf_msa, ImportKind.france_travail_principal,
                   ImportKind.france_travail_actions),
    Role.admin_structure: (ImportKind.professionals, ImportKind.referents),
}
# Kinds whose file is the partner's own (the CAF/MSA XML flux): no template to fill in, and their own type of file.
OWN_FILE_TYPES = {ImportKind.caf_msa: ".xml,application/xml,text/xml"}
TABLE_FILE_TYPES = ".csv,.xls,.xlsx,.ods,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATE_LABELS = {
    ImportState.receiving: "Réception du fichier", ImportState.parsing: "Lecture et vérification",
    ImportState.review: "À vérifier", ImportState.applying: "Enregistrement en cours", ImportState.done: "Terminé",
    ImportState.failed: "Échec",
}
STATUS_LABELS = {ReviewStatus.new: "Nouveau", ReviewStatus.same: "Existant", ReviewStatus.conflict: "Conflit",
                 ReviewStatus.invalid: "Invalide"}
STATUS_FILTERS = {"": "Tous", "new": "Nouveaux", "same": "Existants", "conflict": "Conflits", "invalid": "Invalides"}
OUTCOME_LABELS = {Outcome.created: "Créé", Outcome.updated: "Mis à jour", Outcome.unchanged: "Inchangé",
                  Outcome.rejected: "Rejeté", Outcome.excluded: "Exclu"}
RUNNING = frozenset({ImportState.receiving, ImportState.parsing, ImportState.applying})
APPLICABLE = frozenset({ReviewStatus.new, ReviewStatus.same})
PAGE_ROWS = 50
ROW_NUMBER = re.compile(r"[0-9]{1,10}")
NOT_ROW_NUMBERS = "Les lignes à exclure doivent être désignées par leur numéro ; rien n'a été appliqué."
NOT_ALLOWED = "Seuls les gestionnaires de territoire et les administrateurs de structure importent des fichiers."
LABELS = {"kind_labels": KIND_LABELS, "state_labels": STATE_LABELS, "status_labels": STATUS_LABELS,
          "outcome_labels": OUTCOME_LABELS, "status_filters": STATUS_FILTERS}


@dataclass(frozen=True)
class KindChoice:
    kind: ImportKind
    label: str
    hint: str
    accept: str = TABLE_FILE_TYPES  # what the file chooser offers
    template: bool = True  # a template to fill in can be downloaded


def kinds_of(visitor: Visitor) -> tuple[ImportKind, ...]:
    return KINDS_BY_ROLE.get(visitor.me.role, ())


async def importer(request: Request, visitor: VisitorDep) -> Visitor:
    if not kinds_of(visitor):
        raise LeavePage(error_page(request, Forbidden(NOT_ALLOWED), visitor=visitor))
    return visitor


ImporterDep = Annotated[Visitor, Depends(importer)]  # signed in, and allowed to import
ImporterFormDep = posting(importer)


async def structures_of(request: Request, visitor: Visitor) -> list:
    """A structure admin of several structures chooses which one professionals and rattachements are for."""
    if visitor.me.role != Role.admin_structure or len(visitor.me.structure_ids) < 2:
        return []
    return [await call_or_leave(request, visitor, GetStructureV1(structure_id=structure_id))
            for structure_id in visitor.me.structure_ids]


def kind_filter(request: Request) -> ImportKind | None:
    """``?kind=``: the history of one kind only (a dashboard's « Imports et flux » leads here); ignored when unknown."""
    value = request.query_params.get("kind", "")
    return ImportKind(value) if value in {k.value for k in ImportKind} else None


async def imports_page(request: Request, visitor: Visitor, *, error: str = "", status_code: int = 200):
    chosen = kind_filter(request)
    history = await call_or_leave(request, visitor, ListImportsV1(kind=chosen, limit=50))
    return render(request, "imports.html.j2", {
        **LABELS, "kinds": [KindChoice(kind, KIND_LABELS[kind], KIND_HINTS[kind], OWN_FILE_TYPES.get(kind, TABLE_FILE_TYPES),
                          kind not in OWN_FILE_TYPES) for kind in kinds_of(visitor)],
        "imports": history.imports, "structures": await structures_of(request, visitor), "error": error,
        "kind_filter": chosen,
    }, visitor=visitor, status_code=status_code)


@router.get("/imports")
async def imports(request: Request, visitor: ImporterDep):
    return await imports_page(request, visitor)


@router.post("/imports/{kind}")
async def upload(kind: str, request: Request, visitor: ImporterDep):
    if kind not in {k.value for k in kinds_of(visitor)}:
        return error_page(request, Forbidden("Vous ne pouvez pas importer ce type de fichier."), visitor=visitor)

    def read_fields(fields: dict[str, str]) -> uuid.UUID | None:
        # The form puts its CSRF token and the structure before the file: checked before a byte of it is stored.
        # A file upload, streamed as the API's POST /api/v1/imports/{kind} streams it: read field by field as they
        # come, not parsed by a body model (none holds a file).
        check_csrf(request, fields.get("csrf", ""))
        chosen = fields.get("structure_id", "")
        try:
            structure_id = uuid.UUID(chosen) if chosen else None
        except ValueError:
            return None
        return structure_id if structure_id in visitor.me.structure_ids else None

    try:
        started = await receive_import(request, ImportKind(kind), visitor.token, read_fields=read_fields)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return await imports_page(request, visitor, error=error.message, status_code=error.http_status)
    return redirect(f"/imports/{started.import_id}", visitor)


def status_filter(request: Request) -> ReviewStatus | None:
    value = request.query_params.get("status", "")
    return ReviewStatus(value) if value in ReviewStatus.__members__ else None


def page_number(request: Request) -> int:
    value = request.query_params.get("page", "1")[:6]
    return max(int(value), 1) if value.isdigit() else 1


def errors_first(rows: list[ImportRowView]) -> list[ImportRowView]:
    """The report's order within a page: rows refused or not applied, then the others, each in file order."""
    def failed(row: ImportRowView) -> bool:
        return row.status not in APPLICABLE or row.outcome in (Outcome.rejected, Outcome.excluded)
    return sorted(rows, key=lambda row: (not failed(row), row.row))


async def rows_context(request: Request, visitor: Visitor, found: ImportView) -> dict:
    chosen = status_filter(request)
    number = page_number(request)
    rows = await call_or_leave(request, visitor, ListImportRowsV1(
        import_id=found.import_id, status=chosen, offset=min((number - 1) * PAGE_ROWS, 1_000_000), limit=PAGE_ROWS))
    shown = errors_first(rows.rows) if found.state == ImportState.done else rows.rows
    pages = max((rows.total + PAGE_ROWS - 1) // PAGE_ROWS, 1)
    return {"rows": shown, "rows_total": rows.total, "status": chosen.value if chosen else "", "page": number,
            "pages": pages, "columns": list(shown[0].values) if shown else [], "applicable": APPLICABLE}


async def import_view_page(request: Request, visitor: Visitor, import_id: uuid.UUID, *, error: str = "",
                           status_code: int = 200, unticked: set[int] | None = None):
    """``unticked``: the rows whose box the user unticked before a refusal, shown unticked again."""
    found = await call_or_leave(request, visitor, GetImportV1(import_id=import_id))
    context = {**LABELS, "imp": found, "running": found.state in RUNNING, "error": error,
               "unticked": unticked or set()}
    if found.state in (ImportState.review, ImportState.done):
        context |= await rows_context(request, visitor, found)
    return render(request, "import.html.j2", context, visitor=visitor, status_code=status_code)


@router.get("/imports/{import_id}")
async def import_page(import_id: uuid.UUID, request: Request, visitor: ImporterDep):
    return await import_view_page(request, visitor, import_id)


def row_numbers(values: list) -> set[int] | None:
    """The page's row numbers, or None when one is not (a tampered form): digits only, as many as a line has."""
    if not all(isinstance(value, str) and ROW_NUMBER.fullmatch(value) for value in values):
        return None
    return {int(value) for value in values}


@router.post("/imports/{import_id}/appliquer")
async def apply(import_id: uuid.UUID, request: Request, visitor: ImporterFormDep):
    """The rows shown on the page whose box was unchecked are excluded; the other pages' rows are applied."""
    form = await request.form()
    # The page's table: a hidden « shown » and a « keep » box per row; the API's body names the rows excluded, the
    # rows shown whose box is unticked. A value that is not a row number is refused, as the import service refuses
    # a number that is not one of the import's rows: nothing is applied, the page is shown again with why.
    shown, kept = row_numbers(form.getlist("shown")), row_numbers(form.getlist("keep"))
    try:  # the body of POST /api/v1/imports/{id}/apply
        if shown is None or kept is None:
            raise Invalid(NOT_ROW_NUMBERS)
        body = parse_form(form, Exclusions, exclude_rows=sorted(shown - kept))
        await call(request, ApplyImportV1(import_id=import_id, **dict(body)), access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        if error.code != ErrorCode.invalid:
            return error_page(request, error, visitor=visitor)
        return await import_view_page(request, visitor, import_id, error=error.message,
                                      status_code=error.http_status,
                                      unticked=shown - kept if shown is not None and kept is not None else None)
    return redirect(f"/imports/{import_id}", visitor)
