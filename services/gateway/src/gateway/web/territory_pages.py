"""Pages of territories and the annuaire: admin's territories, a territory's structures, people, dispositifs."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from contracts.directory import (
    CreateDeploymentV1,
    CreateOrientationSystemV1,
    CreatePersonV1,
    CreateStructureV1,
    DeactivatePersonV1,
    GetDeploymentV1,
    GetPersonV1,
    GetStructureV1,
    ListDeploymentsV1,
    OrientationType,
    PersonRole,
    SearchPeopleV1,
    SearchStructuresV1,
    UpdatePersonV1,
    UpdateStructureV1,
)
from contracts.identity import Role
from gateway.bus import call
from gateway.web.common import FormVisitorDep, Visitor, VisitorDep, call_or_leave, redirect, refusal, render
from gateway.web.common import form_text as text
from gateway.web.forms import parse_form
from gateway.web.territory_structures import every_structure
from servicekit.errors import ServiceError

router = APIRouter(include_in_schema=False)

PERSON_ROLE_LABELS = {PersonRole.professional: "Professionnel", PersonRole.admin_structure: "Administrateur de structure",
                      PersonRole.orientation_manager: "Chargé d'orientation",
                      PersonRole.manager: "Gestionnaire du territoire"}
ORIENTATION_TYPE_LABELS = {OrientationType.pro: "Professionnel", OrientationType.sociopro: "Socio-professionnel",
                           OrientationType.social: "Social", OrientationType.autre: "Autre"}
INVITED = "{name} est enregistré(e) : une invitation à se connecter vient de lui être envoyée par e-mail."


def territory_param(request: Request) -> uuid.UUID | None:
    """admin_cdb names the territory in ``?territoire=``; everyone else works in their own."""
    value = request.query_params.get("territoire", "")
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


# What a page says after an action, chosen by a key in its address (?notice=…): never text taken from the address,
# which anyone could write and send to a manager.
NOTICES = {
    "territoire-ouvert": "Le territoire est ouvert : son gestionnaire reçoit une invitation par e-mail.",
    "dispositif-ajoute": "Le dispositif d'accompagnement est ajouté.",
    "structure-creee": "La structure est créée.",
}


async def page_context(request: Request, visitor: Visitor) -> dict:
    territory = await call_or_leave(request, visitor, GetDeploymentV1(deployment_id=territory_param(request)))
    suffix = f"?territoire={territory.deployment_id}" if visitor.me.role == Role.admin_cdb else ""
    return {"territory": territory, "suffix": suffix, "role_labels": PERSON_ROLE_LABELS,
            "type_labels": ORIENTATION_TYPE_LABELS}


def ids(form: FormData, name: str) -> list[uuid.UUID]:
    """The boxes ticked under ``name``, ticked again on a refusal; the body model parses the form itself (a value
    that is no id was no box of the page: not shown)."""
    values = []
    for value in form.getlist(name):
        try:
            values.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return values


@router.get("/territoires")
async def deployments(request: Request, visitor: VisitorDep, notice: str = ""):
    reply = await call_or_leave(request, visitor, ListDeploymentsV1())
    return render(request, "deployments.html.j2", {"deployments": reply.deployments, "form": {},
                                                   "notice": NOTICES.get(notice, "")},
                  visitor=visitor)


@router.post("/territoires")
async def deployment_create(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    try:
        created = await call(request, parse_form(form, CreateDeploymentV1), access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        reply = await call_or_leave(request, visitor, ListDeploymentsV1())
        return render(request, "deployments.html.j2", {"deployments": reply.deployments, "form": dict(form),
                                                       "error": error.message},
                      visitor=visitor, status_code=error.http_status)
    return redirect(f"/territoire?territoire={created.deployment_id}&notice=territoire-ouvert", visitor)


@router.get("/territoire")
async def territory(request: Request, visitor: VisitorDep, notice: str = ""):
    return render(request, "territory.html.j2", {**await page_context(request, visitor), "form": {},
                                                 "notice": NOTICES.get(notice, "")}, visitor=visitor)


@router.post("/territoire/dispositifs")
async def orientation_system_create(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    context = await page_context(request, visitor)
    try:
        await call(request, parse_form(form, CreateOrientationSystemV1,
                                       deployment_id=context["territory"].deployment_id), access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return render(request, "territory.html.j2", {**context, "form": dict(form), "error": error.message},
                      visitor=visitor, status_code=error.http_status)
    return redirect(f"/territoire{context['suffix'] or '?'}{'&' if context['suffix'] else ''}notice=dispositif-ajoute",
                    visitor)


async def structures_page(request: Request, visitor: Visitor, **extra):
    context = await page_context(request, visitor)
    q = request.query_params.get("q", "")[:200]
    system = request.query_params.get("dispositif", "")
    found = await call_or_leave(request, visitor, SearchStructuresV1(
        deployment_id=context["territory"].deployment_id, q=q, limit=100,
        orientation_system_id=uuid.UUID(system) if system in {str(s.orientation_system_id) for s in
                                                              context["territory"].orientation_systems} else None))
    status_code = extra.pop("status_code", 200)
    return render(request, "structures.html.j2", {**context, "structures": found.structures, "total": found.total,
                                                  "q": q, "system": system, "form": {}, **extra},
                  visitor=visitor, status_code=status_code)


@router.get("/territoire/structures")
async def structures(request: Request, visitor: VisitorDep):
    return await structures_page(request, visitor)


@router.post("/territoire/structures")
async def structure_create(request: Request, visitor: FormVisitorDep):
    form = await request.form()
    try:
        created = await call(request, parse_form(form, CreateStructureV1, deployment_id=territory_param(request)),
                             access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return await structures_page(request, visitor, form=dict(form), error=error.message,
                                     checked=[str(i) for i in ids(form, "orientation_system_ids")],
                                     status_code=error.http_status)
    suffix = f"?territoire={created.deployment_id}&" if visitor.me.role == Role.admin_cdb else "?"
    return redirect(f"/territoire/structures/{created.structure_id}{suffix}notice=structure-creee", visitor)


async def structure_page(request: Request, visitor: Visitor, structure_id: uuid.UUID, **extra):
    structure = await call_or_leave(request, visitor, GetStructureV1(structure_id=structure_id))
    context = await page_context(request, visitor)
    people = await call_or_leave(request, visitor, SearchPeopleV1(deployment_id=structure.deployment_id,
                                                        structure_id=structure_id, limit=100))
    status_code = extra.pop("status_code", 200)
    return render(request, "structure.html.j2", {
        **context, "structure": structure, "people": people.people, "people_total": people.total,
        "person_form": {}, "person_checked": [],
        "form": structure.model_dump(),
        "checked": [str(i) for i in structure.orientation_system_ids], **extra}, visitor=visitor,
        status_code=status_code)


@router.get("/territoire/structures/{structure_id}")
async def structure(structure_id: uuid.UUID, request: Request, visitor: VisitorDep, notice: str = ""):
    return await structure_page(request, visitor, structure_id, notice=NOTICES.get(notice, ""))


@router.post("/territoire/structures/{structure_id}")
async def structure_update(structure_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    form = await request.form()
    try:
        await call(request, parse_form(form, UpdateStructureV1, structure_id=structure_id), access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return await structure_page(request, visitor, structure_id, form=dict(form), error=error.message,
                                    checked=[str(i) for i in ids(form, "orientation_system_ids")],
                                    status_code=error.http_status)
    return await structure_page(request, visitor, structure_id, notice="Les modifications sont enregistrées.")


def offered_by(structures) -> dict[str, list[str]]:
    """Each dispositif some structure offers, with the structures offering it: a new professional is offered only
    his structure's (the directory refuses the others), the people page's form filtering them by the one chosen."""
    offered: dict[str, list[str]] = {}
    for found in structures:
        for system_id in found.orientation_system_ids:
            offered.setdefault(str(system_id), []).append(str(found.structure_id))
    return offered


async def people_page(request: Request, visitor: Visitor, **extra):
    context = await page_context(request, visitor)
    q = request.query_params.get("q", "")[:200]
    role = request.query_params.get("role", "")
    found = await call_or_leave(request, visitor, SearchPeopleV1(
        deployment_id=context["territory"].deployment_id, q=q, limit=100,
        role=PersonRole(role) if role in PersonRole.__members__ else None))
    structures = await every_structure(request, visitor, context["territory"].deployment_id)
    status_code = extra.pop("status_code", 200)
    return render(request, "people.html.j2", {**context, "people": found.people, "total": found.total, "q": q,
                                              "role": role, "structures": structures,
                                              "offered_by": offered_by(structures),
                                              "person_form": {}, "person_checked": [], **extra},
                  visitor=visitor, status_code=status_code)


@router.get("/territoire/personnes")
async def people(request: Request, visitor: VisitorDep, notice: str = ""):
    return await people_page(request, visitor, notice=NOTICES.get(notice, ""))


@router.post("/territoire/personnes")
async def person_create(request: Request, visitor: FormVisitorDep):
    """Also the "add a professional" form of a structure page, which comes back to that structure."""
    form = await request.form()
    back_to = text(form, "back_to")
    ticked = [str(i) for i in ids(form, "orientation_system_ids")]
    if text(form, "etape") == "structure":  # without JavaScript: the dispositifs of the structure chosen
        return await people_page(request, visitor, person_form=dict(form), person_checked=ticked)
    try:
        created = await call(request, parse_form(form, CreatePersonV1, deployment_id=territory_param(request),
                                                 role=text(form, "role") or PersonRole.professional),
                             access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        if back_to:
            return await structure_page(request, visitor, uuid.UUID(back_to), person_form=dict(form),
                                        person_error=error.message, person_checked=ticked,
                                        status_code=error.http_status)
        return await people_page(request, visitor, person_form=dict(form), error=error.message,
                                 person_checked=ticked, status_code=error.http_status)
    notice = INVITED.format(name=f"{created.firstname} {created.lastname}")
    if back_to:
        return await structure_page(request, visitor, uuid.UUID(back_to), notice=notice)
    return await people_page(request, visitor, notice=notice)


async def person_page(request: Request, visitor: Visitor, person_id: uuid.UUID, **extra):
    person = await call_or_leave(request, visitor, GetPersonV1(person_id=person_id))
    context = await page_context(request, visitor)
    structures = await every_structure(request, visitor, person.deployment_id)
    status_code = extra.pop("status_code", 200)
    return render(request, "person.html.j2", {
        **context, "person": person, "structures": structures, "person_form": person.model_dump(),
        "chosen": [str(s.structure_id) for s in person.structures],
        "checked": [str(o.orientation_system_id) for o in person.orientation_systems], **extra},
        visitor=visitor, status_code=status_code)


@router.get("/territoire/personnes/{person_id}")
async def person(person_id: uuid.UUID, request: Request, visitor: VisitorDep):
    return await person_page(request, visitor, person_id)


@router.post("/territoire/personnes/{person_id}")
async def person_update(person_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    form = await request.form()
    try:
        await call(request, parse_form(form, UpdatePersonV1, person_id=person_id), access_token=visitor.token)
    except (ServiceError, ValidationError) as failure:
        error = refusal(failure)
        return await person_page(request, visitor, person_id, person_form=dict(form), error=error.message,
                                 chosen=[str(i) for i in ids(form, "structure_ids")],
                                 checked=[str(i) for i in ids(form, "orientation_system_ids")],
                                 status_code=error.http_status)
    return await person_page(request, visitor, person_id, notice="Les modifications sont enregistrées.")


@router.post("/territoire/personnes/{person_id}/desactiver")
async def person_deactivate(person_id: uuid.UUID, request: Request, visitor: FormVisitorDep):
    """From the people's list, a person's page or a structure's page, which it comes back to (``back_to``)."""
    back_to = text(await request.form(), "back_to")
    person = await call_or_leave(request, visitor, DeactivatePersonV1(person_id=person_id))
    notice = f"{person.firstname} {person.lastname} est désactivé(e) : son compte est fermé et son historique conservé."
    try:
        structure_id = uuid.UUID(back_to) if back_to else None
    except ValueError:
        structure_id = None
    if structure_id:
        return await structure_page(request, visitor, structure_id, notice=notice)
    return await people_page(request, visitor, notice=notice)


@router.get("/annuaire")
async def annuaire(request: Request, visitor: VisitorDep):
    q = request.query_params.get("q", "")[:200]
    deployment_id = territory_param(request)
    territories = None
    if visitor.me.role == Role.admin_cdb:
        # She belongs to no territory: she chooses the one to search, and searches nothing until she has.
        territories = (await call_or_leave(request, visitor, ListDeploymentsV1())).deployments
        if deployment_id is None:
            return render(request, "annuaire.html.j2", {"q": q, "people": None, "structures": None,
                                                         "territories": territories, "territory_id": None},
                          visitor=visitor)
    people_found = await call_or_leave(request, visitor, SearchPeopleV1(deployment_id=deployment_id, q=q,
                                                              role=PersonRole.professional, limit=50))
    structures_found = await call_or_leave(request, visitor, SearchStructuresV1(deployment_id=deployment_id, q=q, limit=50))
    return render(request, "annuaire.html.j2", {"q": q, "people": people_found, "structures": structures_found,
                                                 "territories": territories, "territory_id": deployment_id},
                  visitor=visitor)
