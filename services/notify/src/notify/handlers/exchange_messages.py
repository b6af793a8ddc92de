"""Exchanges between professionals → messages. Each member mentioned in a message, or asked a question, or whose
message the beneficiary answered, hears that there is a message for them and follows the link to read it once signed
in; a member who chose the daily digest gets it there (``DIGESTIBLE``). The beneficiary hears of each professional's
message shared with her, on the channels she chose (SMS and/or email, as for her appointments), with the link to her
messages. The text stays in the notebook (it may say more than an email or an SMS should)."""
from __future__ import annotations

from contracts.exchanges import ExchangePostedV1
from notify.handlers.contract_messages import email
from notify.handlers.deps import Deps
from notify.handlers.notebook_messages import to_beneficiary
from notify.handlers.queue_message import queue_once
from servicekit.consumers import EventMeta

CONSUMER = "notify-exchanges"
TEMPLATE = "exchange_mention"
REPLY_TEMPLATE = "exchange_reply"
SHARED_TEMPLATE = "exchange_shared"


def thread_page(event: ExchangePostedV1) -> str:
    return f"/carnets/{event.notebook_id}/echanges#echange-{event.exchange_id}"


# Her messages' page, without the message's anchor: an SMS holds 160 characters and the newest message shows last.
OWN_THREAD_PAGE = "/mon-carnet/echanges"


async def on_exchange_posted(event: ExchangePostedV1, _meta: EventMeta, deps: Deps) -> None:
    template = REPLY_TEMPLATE if event.by_beneficiary else TEMPLATE
    messages = [message for recipient in event.recipients
                for message in email(deps, template, recipient.email, thread_page(event),
                                     firstname=recipient.firstname, author=event.author_name,
                                     question=recipient.addressed)]
    if event.shared_with_beneficiary and not event.by_beneficiary:
        messages += to_beneficiary(deps, SHARED_TEMPLATE, event.beneficiary_phone, event.beneficiary_email,
                                   event.beneficiary_channels, path=OWN_THREAD_PAGE)
    await queue_once(deps, CONSUMER, event.event_id, messages)


SUBSCRIPTIONS = ((CONSUMER, ExchangePostedV1, on_exchange_posted),)
