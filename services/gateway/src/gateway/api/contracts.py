"""Contracts (CER, PPAE, CEJ, PACEA) of a notebook, answered by notebook: the CER from draft to signed PDF.

Each step sends back the ``version`` read: if someone saved in between, the answer is 409 with the current one.
"""
from __future__ import annotations

import base64
import uuid
from datetime import date

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from contracts.inputs import Text, Version
from contracts.notebook import (
    ContractLink,
    ContractsReply,
    ContractsToValidateReply,
    ContractView,
    CreateContractDraftV1,
    DecideContractV1,
    EndContractV1,
    GetContractPdfV1,
    GetContractV1,
    ListContractsToValidateV1,
    ListContractsV1,
    RecordContractV1,
    SignContractV1,
    SubmitContractV1,
    UpdateContractV1,
    VersionReply,
)
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller
from servicekit.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["contrats"], dependencies=COOKIE_ORIGIN_CHECK)


class NewDraft(BaseModel):
    renewed_from: uuid.UUID | None = None


class ContractChange(BaseModel):
    version: Version
    start_date: date | None = None
    end_date: date | None = None
    beneficiary_commitments: Text = Field(default="", max_length=5000)
    referent_commitments: Text = Field(default="", max_length=5000)


class Step(BaseModel):
    version: Version


class Decision(BaseModel):
    version: Version
    validated: bool
    decided_on: date | None = None
    comment: Text = Field(default="", max_length=2000)


class Signature(BaseModel):
    version: Version
    signed_on: date | None = None  # "signé en présence": the day it was signed


class Ending(BaseModel):
    version: Version
    ended_on: date | None = None
    reason: Text = Field(default="", max_length=2000)


class OtherContract(BaseModel):
    kind: ContractLink
    signed_on: date
    start_date: date
    end_date: date | None = None


@router.get("/notebooks/{notebook_id}/contracts", response_model=ContractsReply)
async def list_contracts(notebook_id: uuid.UUID, request: Request, response: Response) -> ContractsReply:
    return await call_as_caller(request, response, ListContractsV1(notebook_id=notebook_id))


@router.get("/me/notebook/contracts", response_model=ContractsReply)
async def my_contracts(request: Request, response: Response) -> ContractsReply:
    """The beneficiary's own contracts."""
    return await call_as_caller(request, response, ListContractsV1())


@router.post("/notebooks/{notebook_id}/contracts", status_code=status.HTTP_201_CREATED, response_model=VersionReply)
async def create_draft(notebook_id: uuid.UUID, body: NewDraft, request: Request, response: Response) -> VersionReply:
    """A CER draft pre-filled from the notebook ("Renouveler": from a previous CER)."""
    return await call_as_caller(request, response, CreateContractDraftV1(notebook_id=notebook_id, **dict(body)))


@router.post("/notebooks/{notebook_id}/contracts/others", status_code=status.HTTP_201_CREATED,
             response_model=VersionReply)
async def record_other(notebook_id: uuid.UUID, body: OtherContract, request: Request,
                       response: Response) -> VersionReply:
    """A PPAE, CEJ or PACEA signed elsewhere, with its dates."""
    return await call_as_caller(request, response, RecordContractV1(notebook_id=notebook_id, **dict(body)))


@router.get("/contracts/to-validate", response_model=ContractsToValidateReply)
async def to_validate(request: Request, response: Response) -> ContractsToValidateReply:
    """The CER waiting for a decision in the caller's territory (managers, orientation managers)."""
    return await call_as_caller(request, response, ListContractsToValidateV1())


@router.get("/notebooks/{notebook_id}/contracts/{contract_id}", response_model=ContractView)
async def get_contract(notebook_id: uuid.UUID, contract_id: uuid.UUID, request: Request,
                       response: Response) -> ContractView:
    return checked(await call_as_caller(request, response, GetContractV1(contract_id=contract_id)), notebook_id)


def checked(contract: ContractView, notebook_id: uuid.UUID) -> ContractView:
    """A contract asked under another notebook's path is not found there."""
    if contract.notebook_id != notebook_id:
        raise NotFound("Ce contrat n'existe pas.")
    return contract


@router.put("/notebooks/{notebook_id}/contracts/{contract_id}", response_model=VersionReply)
async def update_contract(notebook_id: uuid.UUID, contract_id: uuid.UUID, body: ContractChange, request: Request,
                          response: Response) -> VersionReply:
    return await call_as_caller(request, response, UpdateContractV1(contract_id=contract_id, **dict(body)))


@router.post("/notebooks/{notebook_id}/contracts/{contract_id}/submission", response_model=VersionReply)
async def submit(notebook_id: uuid.UUID, contract_id: uuid.UUID, body: Step, request: Request,
                 response: Response) -> VersionReply:
    return await call_as_caller(request, response, SubmitContractV1(contract_id=contract_id, **dict(body)))


@router.post("/notebooks/{notebook_id}/contracts/{contract_id}/decision", response_model=VersionReply)
async def decide(notebook_id: uuid.UUID, contract_id: uuid.UUID, body: Decision, request: Request,
                 response: Response) -> VersionReply:
    """Validated, or returned to the référent with a reason."""
    return await call_as_caller(request, response, DecideContractV1(contract_id=contract_id, **dict(body)))


@router.post("/notebooks/{notebook_id}/contracts/{contract_id}/signature", response_model=VersionReply)
async def sign(notebook_id: uuid.UUID, contract_id: uuid.UUID, body: Signature, request: Request,
               response: Response) -> VersionReply:
    """The beneficiary signs online; a member records "signé en présence" with its date."""
    return await call_as_caller(request, response, SignContractV1(contract_id=contract_id, **dict(body)))


@router.post("/notebooks/{notebook_id}/contracts/{contract_id}/end", response_model=VersionReply)
async def end(notebook_id: uuid.UUID, contract_id: uuid.UUID, body: Ending, request: Request,
              response: Response) -> VersionReply:
    return await call_as_caller(request, response, EndContractV1(contract_id=contract_id, **dict(body)))


@router.get("/notebooks/{notebook_id}/contracts/{contract_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def contract_pdf(notebook_id: uuid.UUID, contract_id: uuid.UUID, request: Request,
                       response: Response) -> Response:
    """The contract as a PDF with the territory's header (members, the territory, the beneficiary)."""
    checked(await call_as_caller(request, response, GetContractV1(contract_id=contract_id)), notebook_id)
    return pdf_response(await call_as_caller(request, response, GetContractPdfV1(contract_id=contract_id)), response)


def pdf_response(pdf, response: Response) -> Response:
    answer = Response(base64.b64decode(pdf.pdf_base64), media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{pdf.filename}"', "Cache-Control": "no-store"})
    for name, value in response.raw_headers:  # renewed session cookies
        if name == b"set-cookie":
            answer.raw_headers.append((name, value))
    return answer
