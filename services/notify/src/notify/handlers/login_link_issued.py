"""Login link issued by identity → email with the link."""
from __future__ import annotations

from contracts.identity import LoginLinkIssuedV1
from notify.handlers.deps import Deps
from notify.handlers.queue_message import queue_email
from notify.rendering import render_email
from servicekit import inbox
from servicekit.consumers import EventMeta

CONSUMER = "notify-login-links"
TEMPLATE = "login_link"


async def on_login_link_issued(event: LoginLinkIssuedV1, _meta: EventMeta, deps: Deps) -> None:
    async with deps.sessions() as session, session.begin():
        if not await inbox.claim(session, CONSUMER, event.event_id):
            return
        link = f"{deps.settings.public_url.rstrip('/')}/auth/magic/{event.token}"
        minutes = max(1, round((event.expires_at - event.occurred_at).total_seconds() / 60))
        queue_email(
            session, deps, source_event_id=event.event_id, template=TEMPLATE, to=event.email,
            email=render_email(TEMPLATE, links=[link], link=link, minutes=minutes), contains_secret=True,
        )
    deps.queued.set()
