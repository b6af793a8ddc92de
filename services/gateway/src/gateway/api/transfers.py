"""Another territory, answered by notebook: a notebook's transfers and referrals, the managers' « Transferts » (those
waiting for their territory, those it asked), asking a transfer, deciding on one, inviting a professional of another
territory until a date."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from contracts.inputs import Line, Text
from contracts.notebook import VersionReply
from contracts.transfers import (
    DecideTransferV1,
    GetNotebookTransfersV1,
    GrantReferralV1,
    ListTransfersV1,
    NotebookTransfersReply,
    RequestTransferV1,
    TransfersReply,
)
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller

router = APIRouter(prefix="/api/v1", tags=["transferts"], dependencies=COOKIE_ORIGIN_CHECK)


class TransferAsked(BaseModel):
    to_deployment_id: uuid.UUID
    reason: Text = Field(max_length=2000)


class TransferDecision(BaseModel):
    accepted: bool
    reason: Text = Field(default="", max_length=2000)  # required when refused


class Referral(BaseModel):
    email: Line = Field(max_length=320)
    until: date
    reason: Text = Field(default="", max_length=2000)


@router.get("/notebooks/{notebook_id}/transfers", response_model=NotebookTransfersReply)
async def notebook_transfers(notebook_id: uuid.UUID, request: Request, response: Response) -> NotebookTransfersReply:
    """The notebook's transfers and referrals, and the territories it may be transferred to (its managers)."""
    return await call_as_caller(request, response, GetNotebookTransfersV1(notebook_id=notebook_id))


@router.post("/notebooks/{notebook_id}/transfers", status_code=status.HTTP_201_CREATED, response_model=VersionReply)
async def request_transfer(notebook_id: uuid.UUID, body: TransferAsked, request: Request,
                           response: Response) -> VersionReply:
    """A manager of the notebook's territory asks its transfer (the beneficiary moved)."""
    return await call_as_caller(request, response, RequestTransferV1(notebook_id=notebook_id, **dict(body)))


@router.get("/transfers", response_model=TransfersReply)
async def transfers(request: Request, response: Response) -> TransfersReply:
    """Managers: the transfers waiting for their territory's decision, and those it asked with their state."""
    return await call_as_caller(request, response, ListTransfersV1())


@router.post("/transfers/{transfer_id}/decision", response_model=VersionReply)
async def decide(transfer_id: uuid.UUID, body: TransferDecision, request: Request, response: Response) -> VersionReply:
    """A manager of the destination accepts (the notebook and its history move) or refuses with a reason."""
    return await call_as_caller(request, response, DecideTransferV1(transfer_id=transfer_id, **dict(body)))


@router.post("/notebooks/{notebook_id}/referrals", status_code=status.HTTP_201_CREATED, response_model=VersionReply)
async def grant_referral(notebook_id: uuid.UUID, body: Referral, request: Request, response: Response) -> VersionReply:
    """A manager of the notebook's territory invites a professional of another territory until a date."""
    return await call_as_caller(request, response, GrantReferralV1(notebook_id=notebook_id, **dict(body)))
