"""Bilans d'accompagnement of a notebook, answered by notebook: the pre-filled bilan at a date (the progress of each
objective and action since the previous bilan, gathered by the service: nothing typed twice), saved with the
professional's assessment and next steps, listed, read and downloaded as a PDF — by the beneficiary too."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from contracts.bilans import (
    BilanDraft,
    BilansReply,
    BilanView,
    CreateBilanV1,
    GetBilanPdfV1,
    GetBilanV1,
    ListBilansV1,
    PrepareBilanV1,
)
from contracts.inputs import Text
from contracts.notebook import VersionReply
from gateway.api.contracts import pdf_response
from gateway.auth.session import COOKIE_ORIGIN_CHECK, access_token_for, call_as_caller
from gateway.bus import call
from servicekit.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["bilans"], dependencies=COOKIE_ORIGIN_CHECK)
BILAN_NOT_FOUND = "Ce bilan n'existe pas."
PDF_TIMEOUT_S = 30.0  # a PDF takes a fraction of a second, seconds on a loaded machine: more than the bus's default


async def pdf_of(request: Request, response: Response, bilan_id: uuid.UUID):
    token = await access_token_for(request, response)
    return await call(request, GetBilanPdfV1(bilan_id=bilan_id), access_token=token, timeout_s=PDF_TIMEOUT_S)


class NewBilan(BaseModel):
    bilan_date: date | None = None  # today when not given
    assessment: Text = Field(max_length=5000)
    next_steps: Text = Field(default="", max_length=5000)


def checked(bilan: BilanView, notebook_id: uuid.UUID | None) -> BilanView:
    """A bilan asked under another notebook's path is not found there."""
    if notebook_id is not None and bilan.notebook_id != notebook_id:
        raise NotFound(BILAN_NOT_FOUND)
    return bilan


@router.get("/notebooks/{notebook_id}/bilans", response_model=BilansReply)
async def list_bilans(notebook_id: uuid.UUID, request: Request, response: Response) -> BilansReply:
    return await call_as_caller(request, response, ListBilansV1(notebook_id=notebook_id))


@router.get("/notebooks/{notebook_id}/bilans/prefill", response_model=BilanDraft)
async def prefill(notebook_id: uuid.UUID, request: Request, response: Response,
                  bilan_date: date | None = None) -> BilanDraft:
    """What a bilan at ``bilan_date`` (today by default) gathers from the notebook; nothing is stored."""
    return await call_as_caller(request, response, PrepareBilanV1(notebook_id=notebook_id, bilan_date=bilan_date))


@router.post("/notebooks/{notebook_id}/bilans", status_code=status.HTTP_201_CREATED, response_model=VersionReply)
async def create_bilan(notebook_id: uuid.UUID, body: NewBilan, request: Request, response: Response) -> VersionReply:
    """Saves a bilan: the progress is gathered by the service; the body carries only what the professional writes."""
    return await call_as_caller(request, response, CreateBilanV1(notebook_id=notebook_id, **dict(body)))


@router.get("/notebooks/{notebook_id}/bilans/{bilan_id}", response_model=BilanView)
async def get_bilan(notebook_id: uuid.UUID, bilan_id: uuid.UUID, request: Request, response: Response) -> BilanView:
    return checked(await call_as_caller(request, response, GetBilanV1(bilan_id=bilan_id)), notebook_id)


@router.get("/notebooks/{notebook_id}/bilans/{bilan_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def bilan_pdf(notebook_id: uuid.UUID, bilan_id: uuid.UUID, request: Request, response: Response) -> Response:
    checked(await call_as_caller(request, response, GetBilanV1(bilan_id=bilan_id)), notebook_id)
    return pdf_response(await pdf_of(request, response, bilan_id), response)


@router.get("/me/notebook/bilans", response_model=BilansReply)
async def my_bilans(request: Request, response: Response) -> BilansReply:
    """The beneficiary's own bilans."""
    return await call_as_caller(request, response, ListBilansV1())


@router.get("/me/notebook/bilans/{bilan_id}", response_model=BilanView)
async def my_bilan(bilan_id: uuid.UUID, request: Request, response: Response) -> BilanView:
    return await call_as_caller(request, response, GetBilanV1(bilan_id=bilan_id))


@router.get("/me/notebook/bilans/{bilan_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def my_bilan_pdf(bilan_id: uuid.UUID, request: Request, response: Response) -> Response:
    return pdf_response(await pdf_of(request, response, bilan_id), response)
