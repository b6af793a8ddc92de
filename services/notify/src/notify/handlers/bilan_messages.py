"""Bilan events → emails: the beneficiary hears that a bilan of her accompaniment was written, with a link to read
it from her login (its content stays in the notebook: an email carries none of it)."""
from __future__ import annotations

from contracts.bilans import BilanCreatedV1
from notify.handlers.contract_messages import day, email
from notify.handlers.deps import Deps
from notify.handlers.queue_message import queue_once
from servicekit.consumers import EventMeta

CONSUMER = "notify-bilans"


async def on_bilan_created(event: BilanCreatedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-created", event.event_id, email(
        deps, "bilan_created", event.beneficiary_email, f"/mon-carnet/bilans/{event.bilan_id}",
        firstname=event.beneficiary_firstname, author=event.author_name, bilan_date=day(event.bilan_date)))


SUBSCRIPTIONS = ((f"{CONSUMER}-created", BilanCreatedV1, on_bilan_created),)
