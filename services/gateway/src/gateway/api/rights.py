"""The beneficiary's rights from her own login (RGPD art. 15, 16, 20, 21): everything held about her, gathered from
each service that holds some (notebook, identity, notify, the import service), each answering for the signed-in beneficiary only, as
JSON and as a readable PDF; her requests for a rectification or her objection; and, for her référent and the
territory's managers, the requests to answer within the month. The gateway only gathers and forwards."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from contracts.base import WireModel
from contracts.inputs import Line, Text
from contracts.notebook import VersionReply
from contracts.rights import (
    AnswerRightsRequestV1,
    CreateRightsRequestV1,
    GetIdentitySubjectDataV1,
    GetImportSubjectDataV1,
    GetNotebookSubjectDataV1,
    GetNotifySubjectDataV1,
    ListRightsRequestsV1,
    RenderSubjectDataPdfV1,
    RightsRequestKind,
    RightsRequestsReply,
    SubjectDataSection,
)
from gateway.api.contracts import pdf_response
from gateway.auth.session import COOKIE_ORIGIN_CHECK, access_token_for, call_as_caller
from gateway.bus import call

router = APIRouter(prefix="/api/v1", tags=["rights"], dependencies=COOKIE_ORIGIN_CHECK)
PDF_TIMEOUT_S = 30.0  # a PDF of every section: a fraction of a second, seconds on a loaded machine
# The other services that hold data about a beneficiary; the notebook's own sections come from the notebook.
OTHER_SERVICES = (GetIdentitySubjectDataV1, GetNotifySubjectDataV1, GetImportSubjectDataV1)


class MyData(WireModel):
    generated_at: datetime
    sections: list[SubjectDataSection] = Field(default_factory=list)


class NewRightsRequest(BaseModel):
    kind: RightsRequestKind
    field: Line = Field(default="", max_length=200)
    text: Text = Field(max_length=3000)
    wanted: Text = Field(default="", max_length=3000)


class RightsAnswer(BaseModel):
    accepted: bool
    answer: Text = Field(max_length=3000)


async def sections_from(request: Request, token: str, asks) -> list[SubjectDataSection]:
    """Each service's sections, asked at once with her token (each checks it is hers); a refusal or an unavailable
    service fails the whole download rather than hand her an incomplete copy without saying so."""
    replies = await asyncio.gather(*(call(request, ask(), access_token=token) for ask in asks),
                                   return_exceptions=True)  # every answer awaited, the first refusal told
    for reply in replies:
        if isinstance(reply, BaseException):
            raise reply
    return [section for reply in replies for section in reply.sections]


async def my_data(request: Request, token: str) -> MyData:
    return MyData(generated_at=datetime.now(UTC), sections=await sections_from(
        request, token, (GetNotebookSubjectDataV1, *OTHER_SERVICES)))


async def my_data_pdf(request: Request, token: str):
    others = await sections_from(request, token, OTHER_SERVICES)
    return await call(request, RenderSubjectDataPdfV1(sections=others), access_token=token, timeout_s=PDF_TIMEOUT_S)


@router.get("/me/data", response_model=MyData)
async def download_my_data(request: Request, response: Response) -> MyData:
    """Everything held about the signed-in beneficiary, service by service (JSON)."""
    data = await my_data(request, await access_token_for(request, response))
    response.headers["Content-Disposition"] = 'attachment; filename="mes-donnees.json"'
    response.headers["Cache-Control"] = "no-store"
    return data


@router.get("/me/data/pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def download_my_data_pdf(request: Request, response: Response) -> Response:
    return pdf_response(await my_data_pdf(request, await access_token_for(request, response)), response)


@router.get("/me/rights-requests", response_model=RightsRequestsReply)
async def my_requests(request: Request, response: Response) -> RightsRequestsReply:
    return await call_as_caller(request, response, ListRightsRequestsV1())


@router.post("/me/rights-requests", status_code=status.HTTP_201_CREATED, response_model=VersionReply)
async def ask(body: NewRightsRequest, request: Request, response: Response) -> VersionReply:
    """A rectification (which information, what is wrong, what it should be) or an objection (why)."""
    return await call_as_caller(request, response, CreateRightsRequestV1(**dict(body)))


@router.get("/notebooks/{notebook_id}/rights-requests", response_model=RightsRequestsReply)
async def notebook_requests(notebook_id: uuid.UUID, request: Request, response: Response) -> RightsRequestsReply:
    return await call_as_caller(request, response, ListRightsRequestsV1(notebook_id=notebook_id))


@router.get("/rights-requests", response_model=RightsRequestsReply)
async def requests_to_answer(request: Request, response: Response, open_only: bool = False) -> RightsRequestsReply:
    """A manager's territory's requests, or those of the notebooks a professional is the référent of."""
    return await call_as_caller(request, response, ListRightsRequestsV1(open_only=open_only))


@router.post("/rights-requests/{request_id}/answer", response_model=VersionReply)
async def answer(request_id: uuid.UUID, body: RightsAnswer, request: Request, response: Response) -> VersionReply:
    return await call_as_caller(request, response, AnswerRightsRequestV1(request_id=request_id, **dict(body)))
