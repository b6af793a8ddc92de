"""Login link issued by identity → email with the link, worded for why it was sent."""
from __future__ import annotations

from contracts.identity import LinkPurpose, LoginLinkIssuedV1
from contracts.notify import Channel
from notify.handlers.deps import Deps
from notify.handlers.queue_message import Outgoing, page_url, queue_once
from notify.rendering import render_email
from servicekit.consumers import EventMeta

CONSUMER = "notify-login-links"
TEMPLATES = {
    LinkPurpose.login: "login_link",
    LinkPurpose.invitation: "invitation",
    LinkPurpose.signup_confirmed: "signup_confirmed",
    LinkPurpose.email_change: "email_change",
}


async def on_login_link_issued(event: LoginLinkIssuedV1, _meta: EventMeta, deps: Deps) -> None:
    path = "/compte/email/" if event.purpose == LinkPurpose.email_change else "/auth/magic/"
    link = page_url(deps, f"{path}{event.token}")
    lifetime_s = (event.expires_at - event.occurred_at).total_seconds()
    template = TEMPLATES[event.purpose]
    email = render_email(
        template, links=[link], link=link, firstname=event.firstname, invited_by=event.invited_by,
        login_url=page_url(deps, "/connexion"), minutes=max(1, round(lifetime_s / 60)),
        hours=max(1, round(lifetime_s / 3600)), days=max(1, round(lifetime_s / 86400)),
    )
    await queue_once(deps, CONSUMER, event.event_id, [Outgoing(template, Channel.email, event.email, email, True)])
