"""Exchanges between professionals → emails: each member mentioned in a message, or asked a question, hears that
there is a message for them and follows the link to read it once signed in. The text stays in the notebook (it may
say more than an email should); a member who chose the daily digest gets it there (``DIGESTIBLE``)."""
from __future__ import annotations

from contracts.exchanges import ExchangePostedV1
from notify.handlers.contract_messages import email
from notify.handlers.deps import Deps
from notify.handlers.queue_message import queue_once
from servicekit.consumers import EventMeta

CONSUMER = "notify-exchanges"
TEMPLATE = "exchange_mention"


def thread_page(event: ExchangePostedV1) -> str:
    return f"/carnets/{event.notebook_id}/echanges#echange-{event.exchange_id}"


async def on_exchange_posted(event: ExchangePostedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, CONSUMER, event.event_id, [
        message for recipient in event.recipients
        for message in email(deps, TEMPLATE, recipient.email, thread_page(event), firstname=recipient.firstname,
                             author=event.author_name, question=recipient.addressed)])


SUBSCRIPTIONS = ((CONSUMER, ExchangePostedV1, on_exchange_posted),)
