"""Exports of the lists (issue 18), answered by notebook: ask one (it is written in the background), follow it,
download its file (streamed from the object store as it is read), list them (a territory's managers see every
export of their territory)."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from contracts.pilotage import (
    EXPORTS_BUCKET,
    BeneficiaryFilters,
    ExportFormat,
    ExportList,
    ExportsReply,
    ExportState,
    ExportView,
    GetExportFileV1,
    GetExportV1,
    ListExportsV1,
    StartExportV1,
)
from gateway.api.imports import stream_object
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller
from servicekit.errors import NotFound

GONE = "Ce fichier n'est plus disponible : les exports sont gardés 7 jours. Relancez l'export."
router = APIRouter(prefix="/api/v1/exports", tags=["exports"], dependencies=COOKIE_ORIGIN_CHECK)


class ExportAsked(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    list_name: ExportList = Field(alias="list", description="La liste à exporter.")
    filters: BeneficiaryFilters = Field(default_factory=BeneficiaryFilters,
                                        description="Les filtres de la liste des bénéficiaires.")
    format: ExportFormat = ExportFormat.csv
    query_id: uuid.UUID | None = Field(default=None, description="Une requête enregistrée : ses filtres.")
    deployment_id: uuid.UUID | None = Field(default=None, description="Administrateur national : le territoire.")


class ExportStarted(BaseModel):
    export_id: uuid.UUID
    state: ExportState


class ExportFollowed(ExportView):
    rows: int = 0  # rows written so far (all of them once done)
    download_url: str | None = None


def followed(view: ExportView) -> ExportFollowed:
    return ExportFollowed(**view.model_dump(), rows=view.rows_done, download_url=(
        f"/api/v1/exports/{view.export_id}/download" if view.state == ExportState.done else None))


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=ExportStarted)
async def start_export(body: ExportAsked, request: Request, response: Response) -> ExportStarted:
    """Records the export and writes it in the background; follow it with ``GET /api/v1/exports/{export_id}``."""
    started = await call_as_caller(request, response, StartExportV1(
        list_name=body.list_name, filters=body.filters, format=body.format, query_id=body.query_id,
        deployment_id=body.deployment_id))
    return ExportStarted(export_id=started.export.export_id, state=started.export.state)


@router.get("", response_model=ExportsReply)
async def list_exports(request: Request, response: Response, offset: int = Query(0, ge=0, le=100_000),
                       limit: int = Query(50, ge=1, le=200)) -> ExportsReply:
    """The caller's exports, newest first; a territory's managers see every export of their territory."""
    return await call_as_caller(request, response, ListExportsV1(offset=offset, limit=limit))


@router.get("/{export_id}", response_model=ExportFollowed)
async def get_export(export_id: uuid.UUID, request: Request, response: Response) -> ExportFollowed:
    """State and progress (``rows``); ``download_url`` once done (the file is kept 7 days)."""
    return followed((await call_as_caller(request, response, GetExportV1(export_id=export_id))).export)


@router.get("/{export_id}/download", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                                                  "spreadsheetml.sheet": {}}}})
async def download(export_id: uuid.UUID, request: Request, response: Response) -> StreamingResponse:
    """The export's file (CSV in UTF-8 with BOM and ``;``, or XLSX)."""
    found = await call_as_caller(request, response, GetExportFileV1(export_id=export_id))
    try:
        return await stream_object(request, found, response, EXPORTS_BUCKET)
    except NotFound:  # the bucket let it go (kept 7 days from its writing)
        raise NotFound(GONE) from None
