"""Rights requests → emails: whoever answers (the référent for a rectification, the territory's managers) hears of a
new request and, once a day, of one due within a week or late; the beneficiary hears that hers was answered, with a
link to read the answer from her login (the request and its answer stay in the notebook: no email carries them)."""
from __future__ import annotations

from contracts.rights import (
    RightsRequestAnsweredV1,
    RightsRequestCreatedV1,
    RightsRequestKind,
    RightsRequestsDueV1,
)
from notify.handlers.contract_messages import day, email
from notify.handlers.deps import Deps
from notify.handlers.queue_message import queue_once
from servicekit.consumers import EventMeta

CONSUMER = "notify-rights"
KINDS = {RightsRequestKind.rectification: "demande de rectification",
         RightsRequestKind.objection: "opposition au traitement de ses données"}


def request_page(event) -> str:
    return f"/carnets/{event.notebook_id}/demandes-rgpd"


async def on_request_created(event: RightsRequestCreatedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-created", event.event_id, [
        message for to in event.recipients for message in email(
            deps, "rights_request_created", to, request_page(event), beneficiary=event.beneficiary_name,
            kind=KINDS[event.kind], due_on=day(event.due_on))])


async def on_request_due(event: RightsRequestsDueV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-due", event.event_id, [
        message for to in event.recipients for message in email(
            deps, "rights_request_due", to, request_page(event), beneficiary=event.beneficiary_name,
            kind=KINDS[event.kind], due_on=day(event.due_on), overdue=event.overdue)])


async def on_request_answered(event: RightsRequestAnsweredV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-answered", event.event_id, email(
        deps, "rights_request_answered", event.beneficiary_email, "/mon-carnet/mes-donnees",
        firstname=event.beneficiary_firstname, kind=KINDS[event.kind].replace(" de ses données", " de vos données")))


SUBSCRIPTIONS = (
    (f"{CONSUMER}-created", RightsRequestCreatedV1, on_request_created),
    (f"{CONSUMER}-due", RightsRequestsDueV1, on_request_due),
    (f"{CONSUMER}-answered", RightsRequestAnsweredV1, on_request_answered),
)
