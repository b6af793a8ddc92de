"""The beneficiaries' filter builder and its saved queries (issue 18), answered by notebook from its pilotage read
model: the filtered list the caller may see (a page, its total, its breakdown by structure), and the queries she
saved or that her territory shares."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from contracts.inputs import Line, Offset
from contracts.pilotage import (
    BeneficiaryFactsReply,
    BeneficiaryFilters,
    DeleteSavedQueryV1,
    GetQueryChoicesV1,
    GetSavedQueryV1,
    ListSavedQueriesV1,
    QueryBeneficiariesV1,
    QueryChoicesReply,
    SavedQueriesReply,
    SavedQuery,
    SaveQueryV1,
)
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller

router = APIRouter(prefix="/api/v1", tags=["pilotage"], dependencies=COOKIE_ORIGIN_CHECK)


class BeneficiariesQuery(BaseModel):
    filters: BeneficiaryFilters = Field(default_factory=BeneficiaryFilters)
    offset: Offset = 0
    limit: int = Field(default=50, ge=1, le=500)
    deployment_id: uuid.UUID | None = None  # admin_cdb only


class QueryToSave(BaseModel):
    name: Line = Field(min_length=1, max_length=120)
    filters: BeneficiaryFilters = Field(default_factory=BeneficiaryFilters)
    shared: bool = False  # shared with the territory


@router.post("/pilotage/beneficiaries", response_model=BeneficiaryFactsReply)
async def query_beneficiaries(body: BeneficiariesQuery, request: Request,
                              response: Response) -> BeneficiaryFactsReply:
    """The filtered beneficiaries the caller may see: ``rows`` (a page), ``total`` and ``by_structure``."""
    return await call_as_caller(request, response, QueryBeneficiariesV1(**dict(body)))


@router.get("/pilotage/choices", response_model=QueryChoicesReply)
async def query_choices(request: Request, response: Response,
                        deployment_id: uuid.UUID | None = None) -> QueryChoicesReply:
    """The structures, référents and orientation systems the filters may name."""
    return await call_as_caller(request, response, GetQueryChoicesV1(deployment_id=deployment_id))


@router.get("/queries", response_model=SavedQueriesReply)
async def list_queries(request: Request, response: Response) -> SavedQueriesReply:
    """The caller's saved queries, then those shared in her territory."""
    return await call_as_caller(request, response, ListSavedQueriesV1())


@router.post("/queries", status_code=status.HTTP_201_CREATED, response_model=SavedQuery)
async def save_query(body: QueryToSave, request: Request, response: Response) -> SavedQuery:
    return (await call_as_caller(request, response, SaveQueryV1(**dict(body)))).query


@router.get("/queries/{query_id}", response_model=SavedQuery)
async def get_query(query_id: uuid.UUID, request: Request, response: Response) -> SavedQuery:
    return (await call_as_caller(request, response, GetSavedQueryV1(query_id=query_id))).query


@router.put("/queries/{query_id}", response_model=SavedQuery)
async def update_query(query_id: uuid.UUID, body: QueryToSave, request: Request, response: Response) -> SavedQuery:
    """Renames, re-filters or (un)shares one of the caller's queries."""
    return (await call_as_caller(request, response, SaveQueryV1(query_id=query_id, **dict(body)))).query


@router.delete("/queries/{query_id}", response_model=SavedQuery)
async def delete_query(query_id: uuid.UUID, request: Request, response: Response) -> SavedQuery:
    """Deletes one of the caller's queries (others' shared ones: 403); answers what was deleted."""
    return (await call_as_caller(request, response, DeleteSavedQueryV1(query_id=query_id))).query
