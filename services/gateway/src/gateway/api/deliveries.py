"""The delivery log of emails and SMS (admin_cdb), answered by notify."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request, Response

from contracts.notify import DeliveriesReply, DeliveryView, ListDeliveriesV1, ResendMessageV1
from contracts.inputs import MAX_OFFSET, Line
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller

router = APIRouter(prefix="/api/v1/deliveries", tags=["envois"], dependencies=COOKIE_ORIGIN_CHECK)


@router.get("", response_model=DeliveriesReply)
async def list_deliveries(request: Request, response: Response, status: Line = Query("", max_length=12),
                          recipient: Line = Query("", max_length=320), offset: int = Query(0, ge=0, le=MAX_OFFSET),
                          limit: int = Query(50, ge=1, le=200)) -> DeliveriesReply:
    """Every message, newest first, with its status (sent, failed, pending, uncertain…), attempts and error."""
    return await call_as_caller(request, response, ListDeliveriesV1(status=status, recipient=recipient,
                                                                    offset=offset, limit=limit))


@router.post("/{message_id}/resend", response_model=DeliveryView)
async def resend(message_id: uuid.UUID, request: Request, response: Response) -> DeliveryView:
    """Sends again a failed or interrupted message, by hand (never automatic: it may have been delivered)."""
    return await call_as_caller(request, response, ResendMessageV1(message_id=message_id))
