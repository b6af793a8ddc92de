"""Orientation in bulk, answered by notebook: one decision (orientation system, structure, optional référent) for up
to 500 notebooks, with each notebook's outcome (done, or refused and why)."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from contracts.bulk_orientation import (
    BulkOrientationReply,
    GetTerritoryOrientationOptionsV1,
    NotebookSelection,
    OrientInBulkV1,
    TerritoryOrientationOptionsReply,
)
from contracts.inputs import Text
from gateway.auth.session import COOKIE_ORIGIN_CHECK, access_token_for, call_as_caller
from gateway.bus import call

router = APIRouter(prefix="/api/v1", tags=["orientation"], dependencies=COOKIE_ORIGIN_CHECK)
# 500 notebooks take a few seconds; a loaded system more: the bus's default would give up too early.
BULK_TIMEOUT_S = 120.0


class BulkOrientation(BaseModel):
    notebook_ids: NotebookSelection
    orientation_system_id: uuid.UUID
    structure_id: uuid.UUID
    referent_id: uuid.UUID | None = None
    reason: Text = Field(default="", max_length=2000)


async def orient_notebooks(request: Request, message: OrientInBulkV1, token: str) -> BulkOrientationReply:
    return await call(request, message, access_token=token, timeout_s=BULK_TIMEOUT_S)


@router.post("/orientations/bulk", response_model=BulkOrientationReply)
async def orient_in_bulk(body: BulkOrientation, request: Request, response: Response):
    """Orient (or reorient) up to 500 notebooks in one decision (orientation manager, manager). Each notebook is
    answered on its own: ``done`` (one history entry, one ``notebook.orientation.changed.v1``), or ``refused`` with
    the reason in French (out of the caller's scope or unknown: the same answer; already oriented so). More than
    500, or a choice unknown in the territory: 422, nothing changed."""
    return await orient_notebooks(request, OrientInBulkV1(**dict(body)), await access_token_for(request, response))


@router.get("/orientations/options", response_model=TerritoryOrientationOptionsReply)
async def orientation_options(request: Request, response: Response):
    """The caller's territory's orientation systems, structures and professionals, for a bulk decision."""
    return await call_as_caller(request, response, GetTerritoryOrientationOptionsV1())
