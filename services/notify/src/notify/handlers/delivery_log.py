"""The delivery log for the national admins: every message with its status, attempts and last error."""
from __future__ import annotations

from sqlalchemy import select

from contracts.identity import Role
from contracts.notify import DeliveriesReply, DeliveryView, ListDeliveriesV1
from notify.adapters.orm import OutgoingMessage
from notify.handlers.deps import Deps
from servicekit.db import paged
from servicekit.errors import Forbidden
from servicekit.rpc import RpcContext

ADMINS_ONLY = "Le journal des envois est réservé aux administrateurs de Carnet de bord."


async def list_deliveries(request: ListDeliveriesV1, ctx: RpcContext, deps: Deps) -> DeliveriesReply:
    principal = await deps.verifier.verify(ctx.bearer_token)
    if principal.role != Role.admin_cdb:
        raise Forbidden(ADMINS_ONLY)
    query = select(OutgoingMessage).order_by(OutgoingMessage.created_at.desc(), OutgoingMessage.id)
    if request.status:
        query = query.where(OutgoingMessage.status == request.status)
    if request.recipient.strip():
        query = query.where(OutgoingMessage.recipient == request.recipient.strip().lower())
    async with deps.sessions() as session:
        total, rows = await paged(session, query, request.offset, request.limit)
    return DeliveriesReply(total=total, deliveries=[DeliveryView(
        message_id=m.id, created_at=m.created_at, channel=m.channel, template=m.template, recipient=m.recipient,
        status=m.status, attempts=m.attempts, last_error=m.last_error, sent_at=m.sent_at) for m in rows])
