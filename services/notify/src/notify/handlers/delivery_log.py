"""The delivery log for the national admins: every message with its status, attempts and last error, and
the resending by hand of one that failed or was interrupted."""
from __future__ import annotations

from sqlalchemy import select

from contracts.identity import Role
from contracts.notify import DeliveriesReply, DeliveryView, ListDeliveriesV1, ResendMessageV1
from notify.adapters.orm import OutgoingMessage
from notify.handlers.deps import Deps
from servicekit.db import paged
from servicekit.errors import Conflict, Forbidden, NotFound
from servicekit.rpc import RpcContext

ADMINS_ONLY = "Le journal des envois est réservé aux administrateurs de Carnet de bord."
UNKNOWN = "Ce message n'existe pas."
SECRET_NOT_RESENDABLE = ("Ce message contenait un lien ou un code à usage unique, effacé depuis : "
                         "la personne doit en demander un nouveau.")
NOT_RESENDABLE = "Seul un message en échec ou interrompu peut être renvoyé ; celui-ci est « {status} »."
RESENDABLE = ("failed", "uncertain")


async def require_admin(ctx: RpcContext, deps: Deps) -> None:
    principal = await deps.verifier.verify(ctx.bearer_token)
    if principal.role != Role.admin_cdb:
        raise Forbidden(ADMINS_ONLY)


def view_of(m: OutgoingMessage) -> DeliveryView:
    return DeliveryView(message_id=m.id, created_at=m.created_at, channel=m.channel, template=m.template,
                        recipient=m.recipient, status=m.status, attempts=m.attempts, last_error=m.last_error,
                        sent_at=m.sent_at)


async def list_deliveries(request: ListDeliveriesV1, ctx: RpcContext, deps: Deps) -> DeliveriesReply:
    await require_admin(ctx, deps)
    query = select(OutgoingMessage).order_by(OutgoingMessage.created_at.desc(), OutgoingMessage.id)
    if request.status:
        query = query.where(OutgoingMessage.status == request.status)
    if request.recipient.strip():
        query = query.where(OutgoingMessage.recipient == request.recipient.strip().lower())
    async with deps.sessions() as session:
        total, rows = await paged(session, query, request.offset, request.limit)
    return DeliveriesReply(total=total, deliveries=[view_of(m) for m in rows])


async def resend_message(request: ResendMessageV1, ctx: RpcContext, deps: Deps) -> DeliveryView:
    """Back to "pending" with a fresh round of attempts; the sender takes it at once."""
    await require_admin(ctx, deps)
    async with deps.sessions() as session, session.begin():
        message = await session.get(OutgoingMessage, request.message_id, with_for_update=True)
        if message is None:
            raise NotFound(UNKNOWN)
        if message.status not in RESENDABLE:
            raise Conflict(NOT_RESENDABLE.format(status=message.status))
        if message.contains_secret:
            raise Conflict(SECRET_NOT_RESENDABLE)
        message.status, message.attempts, message.sending_since = "pending", 0, None
        message.next_attempt_at = deps.clock()
        view = view_of(message)
    deps.queued.set()
    return view
