"""« Requêtes et filtres avancés » (issue 18): the filter builder of the beneficiaries' list as a GET form (the URL
is the query: a dashboard's drill-down link opens it), the count, the breakdown by structure and the rows paged;
saving the filters under a name (shared with the territory or not), the saved queries (run, delete), and the
export of the same list (posted to /exports)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from contracts.identity import Role
from contracts.notebook import GetReferentialsV1
from contracts.pilotage import (
    BeneficiaryFilters,
    DeleteSavedQueryV1,
    GetQueryChoicesV1,
    GetSavedQueryV1,
    ListSavedQueriesV1,
    QueryBeneficiariesV1,
    SaveQueryV1,
)
from gateway.api.pilotage_queries import QueryToSave
from gateway.bus import call
from gateway.web import labels
from gateway.web.common import (
    LeavePage, Visitor, VisitorDep, call_or_leave, error_page, posting, redirect, refusal, render,
)
from gateway.web.forms import parse_form
from gateway.web.pilotage_filters import filter_fields, filters_from_query, filters_to_query, has_filters
from servicekit.errors import ServiceError

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
PATH = "/beneficiaires/requetes"
NOTICES = {"enregistree": "La requête est enregistrée.", "supprimee": "La requête est supprimée."}
CER_STATES = {"none": "Sans CER", "draft": "CER en brouillon", "submitted": "CER en attente de validation",
              "validated": "CER validé, à signer", "signed": "CER signé", "ended": "CER terminé"}
ORIGINS = {"manual": "Saisi dans Carnet de bord", "import": "Import de fichier", "cafmsa": "Flux CAF/MSA",
           "france_travail": "France Travail", "partner": "Logiciel partenaire"}
SUPPORT = {k: v for k, v in labels.SUPPORT.items() if k != "all"}


def query_id_of(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def queries_page(request: Request, visitor: Visitor, filters: BeneficiaryFilters | None, *,
                       open_query=None, offset: int = 0, error: str = "", form: dict | None = None,
                       status_code: int = 200):
    """The page; ``filters`` None (refused): the form and the error, no list."""
    found = None
    if filters is not None:
        try:
            found = await call(request, QueryBeneficiariesV1(filters=filters, offset=offset, limit=PAGE_SIZE),
                               access_token=visitor.token)
        except ServiceError as failure:
            if failure.http_status not in (400, 422):
                raise LeavePage(error_page(request, failure, visitor=visitor)) from None
            error, status_code = failure.message, failure.http_status
    choices = await call_or_leave(request, visitor, GetQueryChoicesV1())
    referentials = await call_or_leave(request, visitor, GetReferentialsV1())
    saved = await call_or_leave(request, visitor, ListSavedQueriesV1())
    shown = filters or BeneficiaryFilters()
    query = filters_to_query(shown)
    return render(request, "queries.html.j2", {
        "found": found, "filters": shown, "query": query, "fields": filter_fields(shown), "offset": offset,
        "page_size": PAGE_SIZE, "choices": choices, "themes": referentials.themes, "saved": saved.queries,
        "open_query": open_query, "error": error, "form": form or {},
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""),
        "support_labels": SUPPORT, "rsa_labels": labels.RIGHT_RSA, "cer_labels": CER_STATES,
        "origin_labels": ORIGINS,
        "selected": {str(v) for name in ("structure_ids", "referent_ids", "orientation_system_ids", "support",
                                         "rsa_rights", "cer_states", "themes", "origins")
                     for v in (getattr(shown, name) or [])},
    }, visitor=visitor, status_code=status_code)


async def signed_in_professional(visitor: VisitorDep) -> Visitor:
    if visitor.me.role == Role.beneficiary:
        raise LeavePage(redirect("/mon-carnet", visitor))
    return visitor


ProfessionalDep = Annotated[Visitor, Depends(signed_in_professional)]
ProfessionalFormDep = posting(signed_in_professional)


@router.get(PATH)
async def queries(request: Request, visitor: ProfessionalDep, offset: int = 0, requete: str = ""):
    """The filters are the query string; ``requete`` opens a saved query (its filters unless the URL has some)."""
    open_query = None
    if query_id := query_id_of(requete):
        open_query = (await call_or_leave(request, visitor, GetSavedQueryV1(query_id=query_id))).query
    try:
        filters = filters_from_query(request.query_params)
    except ServiceError as failure:
        return await queries_page(request, visitor, None, open_query=open_query, error=failure.message,
                                  status_code=failure.http_status)
    if open_query is not None and not has_filters(request.query_params):
        filters = open_query.filters
    return await queries_page(request, visitor, filters, open_query=open_query, offset=max(offset, 0))


@router.post(PATH)
async def save(request: Request, visitor: ProfessionalFormDep):
    """« Enregistrer cette requête »: the filters of the page (hidden fields), a name, shared or not; the query
    open and hers is updated."""
    form = await request.form()
    try:
        filters = filters_from_query(form)
    except ServiceError as failure:
        return await queries_page(request, visitor, None, error=failure.message, status_code=failure.http_status)
    try:
        # The query open, a hidden field: the API takes it from its address (PUT /api/v1/queries/{id}); the body is
        # POST /api/v1/queries' (QueryToSave), its filters read as the list's address is. Empty: a new query; not an
        # id (a tampered form): refused by the contract, in French, rather than saved as a new query.
        opened = str(form.get("query_id", "")).strip() or None
        saved = (await call(request, SaveQueryV1(query_id=opened, **dict(parse_form(
            form, QueryToSave, filters=filters))), access_token=visitor.token)).query
    except (ValidationError, ServiceError) as failure:
        problem = refusal(failure)
        return await queries_page(request, visitor, filters, error=problem.message,
                                  form=dict(form), status_code=problem.http_status)
    query = filters_to_query(saved.filters)
    return redirect(f"{PATH}?requete={saved.query_id}&notice=enregistree" + (f"&{query}" if query else ""), visitor)


@router.post(PATH + "/{query_id}/supprimer")
async def delete(query_id: uuid.UUID, request: Request, visitor: ProfessionalFormDep):
    try:
        await call(request, DeleteSavedQueryV1(query_id=query_id), access_token=visitor.token)
    except ServiceError as failure:
        return await queries_page(request, visitor, BeneficiaryFilters(), error=failure.message,
                                  status_code=failure.http_status)
    return redirect(f"{PATH}?notice=supprimee", visitor)
