"""The audit trail (issue 21): a territory's managers read their territory's lines, admin_cdb every line."""
from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, Query, Request, Response

from contracts.audit import AuditLinesReply, ListAuditLinesV1
from contracts.inputs import MAX_OFFSET, Line
from gateway.auth.session import COOKIE_ORIGIN_CHECK, call_as_caller

router = APIRouter(prefix="/api/v1/audit", tags=["journal d'audit"], dependencies=COOKIE_ORIGIN_CHECK)


@router.get("", response_model=AuditLinesReply)
async def list_audit_lines(request: Request, response: Response, period_from: date | None = None,
                           period_to: date | None = None, actor_account_id: uuid.UUID | None = None,
                           notebook_id: uuid.UUID | None = None, action: Line = Query("", max_length=60),
                           offset: int = Query(0, ge=0, le=MAX_OFFSET),
                           limit: int = Query(50, ge=1, le=500)) -> AuditLinesReply:
    """Who read or changed which notebook, exports, partner calls, account actions: newest first, filtered by
    period (Paris days, both included), actor, notebook and action. Ids only: no name is kept in the trail."""
    return await call_as_caller(request, response, ListAuditLinesV1(
        period_from=period_from, period_to=period_to, actor_account_id=actor_account_id, notebook_id=notebook_id,
        action=action, offset=offset, limit=limit))
