"""Dev mode only: the mailbox of messages kept instead of sent, and every template with sample data."""
from __future__ import annotations

from sqlalchemy import select

from contracts.notify import (
    DevMailboxReply,
    MailboxMessage,
    PreviewTemplatesV1,
    ReadDevMailboxV1,
    TemplatePreview,
    TemplatePreviewsReply,
)
from notify.adapters.orm import OutgoingMessage
from notify.handlers.deps import Deps
from notify.samples import SAMPLES, render_sample
from servicekit.errors import NotFound
from servicekit.rpc import RpcContext


def dev_only(deps: Deps) -> None:
    if deps.settings.env != "dev":
        raise NotFound("Cette page n'existe pas.")


async def preview_templates(_request: PreviewTemplatesV1, _ctx: RpcContext, deps: Deps) -> TemplatePreviewsReply:
    dev_only(deps)
    previews = []
    for name, (channel, _context) in SAMPLES.items():
        rendered = render_sample(name)
        previews.append(TemplatePreview(template=name, channel=channel, subject=rendered.subject, text=rendered.text,
                                        html=rendered.html))
    return TemplatePreviewsReply(previews=previews)


async def read_dev_mailbox(request: ReadDevMailboxV1, _ctx: RpcContext, deps: Deps) -> DevMailboxReply:
    dev_only(deps)
    # Held for a daily digest, a message has not gone out: the digest shows in the mailbox instead.
    query = (select(OutgoingMessage).where(OutgoingMessage.status.not_in(("held", "digested")))
             .order_by(OutgoingMessage.created_at.desc()).limit(request.limit))
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
