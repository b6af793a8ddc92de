"""Territories, orientation systems, structures and people (the annuaire), answered by the directory service."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, Response, status

from contracts.directory import (
    CreateDeploymentV1,
    CreateOrientationSystemV1,
    CreatePersonV1,
    CreateStructureV1,
    DeactivatePersonV1,
    DeploymentReply,
    DeploymentsReply,
    GetDeploymentV1,
    GetPersonV1,
    GetStructureV1,
    ListDeploymentsV1,
    ListOrientationSystemsV1,
    OrientationSystemReply,
    OrientationSystemsReply,
    PeopleReply,
    PersonReply,
    PersonRole,
    SearchPeopleV1,
    SearchStructuresV1,
    StructureReply,
    StructuresReply,
    UpdatePersonV1,
    UpdateStructureV1,
)
from contracts.inputs import MAX_OFFSET, Line
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller
from servicekit.errors import Invalid

router = APIRouter(prefix="/api/v1", tags=["annuaire et territoires"], dependencies=COOKIE_ORIGIN_CHECK)


def same_id(path_id: uuid.UUID, body_id: uuid.UUID, name: str) -> None:
    """The body names the same record as the address: otherwise which one to edit is a guess (it used to be
    the address's, silently)."""
    if body_id != path_id:
        raise Invalid.of_fields([{"loc": ["body", name], "type": "id_mismatch"}])


@router.get("/deployments", response_model=DeploymentsReply)
async def list_deployments(request: Request, response: Response) -> DeploymentsReply:
    """admin_cdb: every territory with its counts of structures, professionals and beneficiaries."""
    return await call_as_caller(request, response, ListDeploymentsV1())


@router.post("/deployments", status_code=status.HTTP_201_CREATED, response_model=DeploymentReply)
async def create_deployment(body: CreateDeploymentV1, request: Request, response: Response) -> DeploymentReply:
    """admin_cdb: a territory with its first manager, who receives an invitation by email."""
    return await call_as_caller(request, response, body)


@router.get("/deployments/{deployment_id}", response_model=DeploymentReply)
async def get_deployment(deployment_id: uuid.UUID, request: Request, response: Response) -> DeploymentReply:
    return await call_as_caller(request, response, GetDeploymentV1(deployment_id=deployment_id))


@router.get("/territory", response_model=DeploymentReply)
async def my_territory(request: Request, response: Response) -> DeploymentReply:
    """The caller's own territory."""
    return await call_as_caller(request, response, GetDeploymentV1())


@router.get("/orientation-systems", response_model=OrientationSystemsReply)
async def list_orientation_systems(request: Request, response: Response,
                                   deployment_id: uuid.UUID | None = None) -> OrientationSystemsReply:
    return await call_as_caller(request, response, ListOrientationSystemsV1(deployment_id=deployment_id))


@router.post("/orientation-systems", status_code=status.HTTP_201_CREATED, response_model=OrientationSystemReply)
async def create_orientation_system(body: CreateOrientationSystemV1, request: Request,
                                    response: Response) -> OrientationSystemReply:
    return await call_as_caller(request, response, body)


@router.get("/structures", response_model=StructuresReply)
async def search_structures(
    request: Request, response: Response, q: Line = Query("", max_length=200), deployment_id: uuid.UUID | None = None,
    orientation_system_id: uuid.UUID | None = None, offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(20, ge=1, le=100),
) -> StructuresReply:
    """Annuaire of structures: every word of ``q`` must appear in the name, city or postal code (accents ignored)."""
    return await call_as_caller(request, response, SearchStructuresV1(
        q=q, deployment_id=deployment_id, orientation_system_id=orientation_system_id, offset=offset, limit=limit))


@router.post("/structures", status_code=status.HTTP_201_CREATED, response_model=StructureReply)
async def create_structure(body: CreateStructureV1, request: Request, response: Response) -> StructureReply:
    return await call_as_caller(request, response, body)


@router.get("/structures/{structure_id}", response_model=StructureReply)
async def get_structure(structure_id: uuid.UUID, request: Request, response: Response) -> StructureReply:
    return await call_as_caller(request, response, GetStructureV1(structure_id=structure_id))


@router.put("/structures/{structure_id}", response_model=StructureReply)
async def update_structure(structure_id: uuid.UUID, body: UpdateStructureV1, request: Request,
                           response: Response) -> StructureReply:
    """Send back the ``version`` you read: if someone saved in between, the answer is 409 with the current one."""
    same_id(structure_id, body.structure_id, "structure_id")
    return await call_as_caller(request, response, body)


@router.get("/people", response_model=PeopleReply)
async def search_people(
    request: Request, response: Response, q: Line = Query("", max_length=200), role: PersonRole | None = None,
    deployment_id: uuid.UUID | None = None, structure_id: uuid.UUID | None = None,
    orientation_system_id: uuid.UUID | None = None, include_deactivated: bool = False,
    offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(20, ge=1, le=100),
) -> PeopleReply:
    """Annuaire of people: words match names, email, structure, city and postal code (accents ignored)."""
    return await call_as_caller(request, response, SearchPeopleV1(
        q=q, role=role, deployment_id=deployment_id, structure_id=structure_id,
        orientation_system_id=orientation_system_id, include_deactivated=include_deactivated,
        offset=offset, limit=limit))


@router.post("/people", status_code=status.HTTP_201_CREATED, response_model=PersonReply)
async def create_person(body: CreatePersonV1, request: Request, response: Response) -> PersonReply:
    """A professional, structure admin, orientation manager or manager; they receive an invitation by email."""
    return await call_as_caller(request, response, body)


@router.get("/people/{person_id}", response_model=PersonReply)
async def get_person(person_id: uuid.UUID, request: Request, response: Response) -> PersonReply:
    return await call_as_caller(request, response, GetPersonV1(person_id=person_id))


@router.put("/people/{person_id}", response_model=PersonReply)
async def update_person(person_id: uuid.UUID, body: UpdatePersonV1, request: Request,
                        response: Response) -> PersonReply:
    """Corrects a person; a new email becomes their login at once (their account follows)."""
    same_id(person_id, body.person_id, "person_id")
    return await call_as_caller(request, response, body)


@router.post("/people/{person_id}/deactivate", response_model=PersonReply)
async def deactivate_person(person_id: uuid.UUID, request: Request, response: Response) -> PersonReply:
    """Soft deactivation: the person keeps their history, their account closes, their memberships end."""
    return await call_as_caller(request, response, DeactivatePersonV1(person_id=person_id))
