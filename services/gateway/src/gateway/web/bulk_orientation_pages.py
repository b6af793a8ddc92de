"""Orientation in bulk from the beneficiaries' list (orientation managers and managers): the notebooks ticked, all
those of the page, or all those of the search (500 at most) get one decision — orientation system, structure,
optional référent — and a result page says, notebook by notebook, which were oriented and why the others were not."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from contracts.bulk_orientation import (
    MAX_BULK_ORIENTATION,
    BulkOrientationStatus,
    OrientInBulkV1,
)
from contracts.identity import Role
from contracts.notebook import OrientationOptions, SearchNotebooksV1, SupportStatus
from gateway.api.bulk_orientation import BulkOrientation, orient_notebooks
from gateway.web.common import FormVisitorDep, Visitor, call_or_leave, refusal, render
from gateway.web.common import form_text as text
from gateway.web.forms import form_values, parse_form
from gateway.web.orientation_form import territory_choices
from servicekit.errors import Invalid, ServiceError

router = APIRouter(include_in_schema=False)
ORIENTING_ROLES = (Role.manager, Role.orientation_manager)
NOTHING_SELECTED = "Sélectionnez au moins un bénéficiaire à orienter."
BULK_PREFIX = "bulk_"  # the decision's fields in the list's form: bulk_orientation_system_id, bulk_structure_id…
SEARCH_TOO_LARGE = ("Cette recherche compte plus de {max} bénéficiaires : précisez-la (nom, statut…) ou cochez "
                    "les bénéficiaires page par page.")
SEARCH_PAGE = 100


async def bulk_orientation_options(request: Request, visitor: Visitor) -> OrientationOptions | None:
    """What the list's decision form offers, for those who may orient (nothing for the others)."""
    if visitor.me.role not in ORIENTING_ROLES:
        return None
    return await territory_choices(request, visitor)


def referents_by_structure(options: OrientationOptions | None) -> dict[uuid.UUID | None, list]:
    """The decision form's professionals under their structure, in their order: looked up per structure by the
    template, they were filtered once per structure (2,000 professionals in 200 structures: 3 s a page)."""
    grouped: dict[uuid.UUID | None, list] = {}
    for person in options.referents if options else ():
        grouped.setdefault(person.structure_id, []).append(person)
    return grouped


def uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def ticked(form: FormData, name: str) -> list[uuid.UUID]:
    return [i for i in (uuid_or_none(v) for v in form.getlist(name)) if i]


def selection_on_the_page(form: FormData) -> list[uuid.UUID]:
    """The rows ticked, or every row of the page when « tous les bénéficiaires de cette page » is ticked (the
    page works without JavaScript)."""
    ids = ticked(form, "notebook_ids")
    if form.get("all_on_page") == "1":
        ids += ticked(form, "page_ids")
    return list(dict.fromkeys(ids))


async def search_selection(request: Request, visitor: Visitor, form: FormData) -> list[uuid.UUID]:
    """Every notebook of the list's search (its criteria come back with the form as hidden fields, read as the
    list's address is read by GET /beneficiaires: no API body holds them), 500 at most."""
    support = form.get("support", "all")
    criteria = dict(q=text(form, "q", 200), support=SupportStatus(support) if support in SupportStatus.__members__
                    else SupportStatus.all, mine=form.get("mine") == "1",
                    subject_to_right_and_duty=form.get("droits_et_devoirs") == "1")
    ids: list[uuid.UUID] = []
    offset = 0
    while True:
        found = await call_or_leave(request, visitor, SearchNotebooksV1(**criteria, offset=offset, limit=SEARCH_PAGE))
        if found.more or found.total > MAX_BULK_ORIENTATION:
            raise Invalid(SEARCH_TOO_LARGE.format(max=MAX_BULK_ORIENTATION))
        ids += [row.notebook_id for row in found.notebooks]
        offset += SEARCH_PAGE
        if offset >= found.total or not found.notebooks:
            return list(dict.fromkeys(ids))


@router.post("/beneficiaires/orientation")
async def orient_selection(request: Request, visitor: FormVisitorDep):
    """« Orienter les bénéficiaires sélectionnés »: one decision, then each notebook's outcome."""
    from gateway.web.notebook_pages import list_page  # the list, again, with the refusal

    form = await request.form()

    async def refused(message: str, status_code: int = 422):  # the decision's choices kept as they were
        return await list_page(request, visitor, error=message, status_code=status_code,
                               bulk_form=form_values(form, BulkOrientation, BULK_PREFIX))

    try:
        ids = (await search_selection(request, visitor, form) if form.get("scope") == "search"  # the radio chosen
               else selection_on_the_page(form))
    except ServiceError as error:
        return await refused(error.message)
    if not ids:
        return await refused(NOTHING_SELECTED)
    try:  # the body of POST /api/v1/orientations/bulk, its fields named bulk_… (the list's form holds the
        # « Rattacher » référent too); the notebooks are those the page selected
        body = parse_form(form, BulkOrientation, prefix=BULK_PREFIX, notebook_ids=ids)
    except ValidationError as failure:  # no structure chosen, more than 500, a reason too long: said in French
        return await refused(refusal(failure).message)
    decision = OrientInBulkV1(**dict(body))
    try:
        reply = await orient_notebooks(request, decision, visitor.token)
    except ServiceError as error:
        return await refused(error.message, error.http_status)
    options = await bulk_orientation_options(request, visitor) or OrientationOptions()
    systems = {s.orientation_system_id: s.name for s in options.orientation_systems}
    structures = {s.structure_id: s.name for s in options.structures}
    referents = {p.person_id: p.name for p in options.referents}
    return render(request, "bulk_orientation_result.html.j2", {
        "reply": reply,
        "done": [r for r in reply.results if r.status == BulkOrientationStatus.done],
        "refused": [r for r in reply.results if r.status == BulkOrientationStatus.refused],
        "system": systems.get(decision.orientation_system_id, ""),
        "structure": structures.get(decision.structure_id, ""),
        "referent": referents.get(decision.referent_id, "") if decision.referent_id else "",
    }, visitor=visitor)
