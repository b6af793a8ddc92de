"""The dev mailbox: messages kept instead of sent, readable only in dev mode."""
from __future__ import annotations

from sqlalchemy import select

from contracts.notify import DevMailboxReply, MailboxMessage, ReadDevMailboxV1
from notify.adapters.orm import OutgoingMessage
from notify.handlers.deps import Deps
from servicekit.errors import NotFound
from servicekit.rpc import RpcContext


async def read_dev_mailbox(request: ReadDevMailboxV1, _ctx: RpcContext, deps: Deps) -> DevMailboxReply:
    if deps.settings.env != "dev":
        raise NotFound("Cette page n'existe pas.")
    query = select(OutgoingMessage).order_by(OutgoingMessage.created_at.desc()).limit(request.limit)
    if request.to:
        query = query.where(OutgoingMessage.recipient == request.to.strip().lower())
    async with deps.sessions() as session:
        messages = (await session.execute(query)).scalars().all()
    return DevMailboxReply(
        messages=[
            MailboxMessage(channel=m.channel, to=m.recipient, subject=m.subject, text=m.text, links=m.links,
                           sent_at=m.sent_at)
            for m in messages
        ]
    )
