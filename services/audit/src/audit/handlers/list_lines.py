"""Managers read their territory's audit trail, newest first, with filters (admin_cdb reads every line)."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from audit.adapters.orm import AuditLine
from audit.domain.habilitation import AllLines, scope_of
from audit.handlers.deps import Deps
from contracts.audit import AuditLinesReply, AuditLineView, ListAuditLinesV1
from servicekit.db import paged
from servicekit.errors import Forbidden
from servicekit.rpc import RpcContext

PARIS = ZoneInfo("Europe/Paris")
NOT_ALLOWED = "Le journal d'audit est réservé aux responsables du territoire."


def paris_midnight(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=PARIS)


async def list_lines(request: ListAuditLinesV1, ctx: RpcContext, deps: Deps) -> AuditLinesReply:
    principal = await deps.verifier.verify(ctx.bearer_token)
    scope = scope_of(principal.role, principal.deployment_id)
    if scope is None:
        raise Forbidden(NOT_ALLOWED)
    query = select(AuditLine).order_by(AuditLine.seq.desc())
    if not isinstance(scope, AllLines):
        query = query.where(AuditLine.deployment_id == scope)
    if request.period_from:
        query = query.where(AuditLine.occurred_at >= paris_midnight(request.period_from))
    if request.period_to:
        query = query.where(AuditLine.occurred_at < paris_midnight(request.period_to + timedelta(days=1)))
    if request.actor_account_id:
        query = query.where(AuditLine.actor_account_id == request.actor_account_id)
    if request.notebook_id:
        query = query.where(AuditLine.notebook_id == request.notebook_id)
    if request.action:
        query = query.where(AuditLine.action == request.action)
    async with deps.sessions() as session:
        total, lines = await paged(session, query, request.offset, request.limit)
    return AuditLinesReply(total=total, lines=[AuditLineView(
        seq=line.seq, recorded_at=line.recorded_at, occurred_at=line.occurred_at, deployment_id=line.deployment_id,
        actor_account_id=line.actor_account_id, actor_role=line.actor_role, action=line.action,
        target_type=line.target_type, target_id=line.target_id, notebook_id=line.notebook_id,
        details={str(k): str(v) for k, v in (line.details or {}).items()}) for line in lines])
