"""Dev mailbox API: notify answers only in dev mode, so outside it this is a 404."""
from __future__ import annotations

from fastapi import APIRouter, Query, Request

from contracts.notify import MailboxMessage, ReadDevMailboxV1
from gateway.bus import call

router = APIRouter(prefix="/api/v1/dev", tags=["développement"])


@router.get("/mailbox", response_model=list[MailboxMessage])
async def mailbox(request: Request, to: str | None = Query(None, max_length=320)) -> list[MailboxMessage]:
    return (await call(request, ReadDevMailboxV1(to=to))).messages
