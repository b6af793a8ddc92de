"""Retention (issue 21), answered by notebook: the territory's months without activity, the dry run of the notebooks
due, and « Prolonger » with a reason. Managers of the territory only."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from contracts.inputs import Text
from contracts.retention import ExtendRetentionV1, ExtensionReply, GetRetentionV1, RetentionReply, SetRetentionV1
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller

router = APIRouter(prefix="/api/v1", tags=["conservation"], dependencies=COOKIE_ORIGIN_CHECK)


class RetentionMonths(BaseModel):
    months: int


class Extension(BaseModel):
    until: date
    reason: Text = Field(default="", max_length=2000)


@router.get("/retention", response_model=RetentionReply)
async def retention(request: Request, response: Response) -> RetentionReply:
    """The territory's months, and the notebooks that the next run would purge (nothing is erased by reading)."""
    return await call_as_caller(request, response, GetRetentionV1())


@router.put("/retention", response_model=RetentionReply)
async def set_retention(body: RetentionMonths, request: Request, response: Response) -> RetentionReply:
    return await call_as_caller(request, response, SetRetentionV1(months=body.months))


@router.post("/retention/notebooks/{notebook_id}/extensions", status_code=status.HTTP_201_CREATED,
             response_model=ExtensionReply)
async def extend(notebook_id: uuid.UUID, body: Extension, request: Request, response: Response) -> ExtensionReply:
    return await call_as_caller(request, response, ExtendRetentionV1(notebook_id=notebook_id, **dict(body)))
