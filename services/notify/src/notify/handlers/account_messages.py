"""Account events from identity → emails: sign-up requests to the territory's managers, deactivation notice."""
from __future__ import annotations

from contracts.identity import AccountDeactivatedV1, SignupRequestedV1
from contracts.notify import Channel
from notify.handlers.deps import Deps
from notify.handlers.queue_message import Outgoing, page_url, queue_once
from notify.rendering import render_email
from servicekit.consumers import EventMeta

SIGNUP_CONSUMER = "notify-signup-requests"
DEACTIVATED_CONSUMER = "notify-account-deactivated"


async def on_signup_requested(event: SignupRequestedV1, _meta: EventMeta, deps: Deps) -> None:
    link = page_url(deps, "/comptes?statut=pending")
    email = render_email("signup_requested", links=[link], link=link, firstname=event.firstname,
                         lastname=event.lastname, email=event.email, structure=event.requested_structure)
    await queue_once(deps, SIGNUP_CONSUMER, event.event_id,
                     [Outgoing("signup_requested", Channel.email, to, email) for to in event.manager_emails])


async def on_account_deactivated(event: AccountDeactivatedV1, _meta: EventMeta, deps: Deps) -> None:
    messages = []
    if event.email:
        email = render_email("account_deactivated", links=[], firstname=event.firstname)
        messages.append(Outgoing("account_deactivated", Channel.email, event.email, email))
    await queue_once(deps, DEACTIVATED_CONSUMER, event.event_id, messages)
