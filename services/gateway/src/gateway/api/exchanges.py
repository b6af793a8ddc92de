"""Exchanges between professionals of a notebook, answered by notebook: the members' thread (reading it marks it
read), a message (shared with the beneficiary or not, mentioning members, or a question put to one of them), and
the beneficiary's own view of the messages shared with her, with her answer to one of them."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from contracts.exchanges import (
    MAX_EXCHANGE_LENGTH,
    MAX_MENTIONS,
    ExchangePostedReply,
    ExchangesReply,
    ListExchangesV1,
    PostExchangeV1,
    ReplyExchangeV1,
)
from contracts.inputs import Text
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller

router = APIRouter(prefix="/api/v1", tags=["échanges"], dependencies=COOKIE_ORIGIN_CHECK)


class NewExchange(BaseModel):
    text: Text = Field(max_length=MAX_EXCHANGE_LENGTH)
    shared_with_beneficiary: bool = False
    mentions: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_MENTIONS)
    addressed_to: uuid.UUID | None = None


class ExchangeAnswer(BaseModel):
    text: Text = Field(max_length=MAX_EXCHANGE_LENGTH)


@router.get("/notebooks/{notebook_id}/exchanges", response_model=ExchangesReply)
async def list_exchanges(notebook_id: uuid.UUID, request: Request, response: Response,
                         mark_read: bool = True) -> ExchangesReply:
    """The thread, oldest first; viewing it marks it read (``mark_read=false``: it does not). Members read every
    message, the beneficiary those shared with her; anyone else gets 404."""
    return await call_as_caller(request, response, ListExchangesV1(notebook_id=notebook_id, mark_read=mark_read))


@router.get("/me/notebook/exchanges", response_model=ExchangesReply)
async def my_exchanges(request: Request, response: Response) -> ExchangesReply:
    """The messages of the professionals shared with the beneficiary."""
    return await call_as_caller(request, response, ListExchangesV1())


@router.post("/notebooks/{notebook_id}/exchanges", status_code=status.HTTP_201_CREATED,
             response_model=ExchangePostedReply)
async def post_exchange(notebook_id: uuid.UUID, body: NewExchange, request: Request,
                        response: Response) -> ExchangePostedReply:
    """A message in the thread: ``mentions`` and ``addressed_to`` are members of the group (persons' ids); an
    ``@Prénom Nom`` of a member in the text mentions her too. Each member told gets an email."""
    return await call_as_caller(request, response, PostExchangeV1(notebook_id=notebook_id, **dict(body)))


@router.post("/me/notebook/exchanges/{exchange_id}/replies", status_code=status.HTTP_201_CREATED,
             response_model=ExchangePostedReply)
async def reply_exchange(exchange_id: uuid.UUID, body: ExchangeAnswer, request: Request,
                         response: Response) -> ExchangePostedReply:
    """The beneficiary answers a message shared with her: the group reads her answer, its author gets an email.
    A message she may not see answers 404."""
    return await call_as_caller(request, response, ReplyExchangeV1(exchange_id=exchange_id, text=body.text))
