"""Contract (CER) events → emails: the beneficiary hears that a draft is being prepared, that it is ready to sign and
that it ended; the territory's validators that one waits for them; the référent that it was returned or signed,
and, 30 days before its end, that it ends soon (a schedule, once per contract and end date)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from contracts.notebook import (
    ContractCreatedV1,
    ContractEndedV1,
    ContractEvent,
    ContractReturnedV1,
    ContractSignedV1,
    ContractSubmittedV1,
    ContractValidatedV1,
    ListContractsEndingV1,
)
from contracts.notify import Channel
from notify.handlers.deps import Deps
from notify.handlers.queue_message import Outgoing, page_url, queue_once
from notify.rendering import render_email
from servicekit.consumers import EventMeta

CONSUMER = "notify-contracts"
REMINDER_SCHEDULE = "notify-contract-reminders"
REMINDER_DAYS = 30
PERIODS = uuid.UUID("2d0f1f5e-3c55-4a8e-9b61-0c4b7c8e2f31")  # namespace of the reminders' ids


def day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def email(deps: Deps, template: str, to: str, path: str, **context) -> list[Outgoing]:
    """One email linking to ``path``; none without an address."""
    if not to:
        return []
    link = page_url(deps, path)
    return [Outgoing(template, Channel.email, to, render_email(template, links=[link], link=link, **context))]


def contract_page(event: ContractEvent) -> str:
    return f"/carnets/{event.notebook_id}/contrats/{event.contract_id}"


def own_contract_page(event: ContractEvent) -> str:
    return f"/mon-carnet/contrats/{event.contract_id}"


async def on_contract_created(event: ContractCreatedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-created", event.event_id, email(
        deps, "contract_created", event.beneficiary_email, own_contract_page(event),
        firstname=event.beneficiary_firstname))


async def on_contract_submitted(event: ContractSubmittedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-submitted", event.event_id, [
        message for to in event.validator_emails
        for message in email(deps, "contract_submitted", to, contract_page(event))])


async def on_contract_validated(event: ContractValidatedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-validated", event.event_id, email(
        deps, "contract_validated", event.beneficiary_email, own_contract_page(event),
        firstname=event.beneficiary_firstname, decided_on=day(event.decided_on)))


async def on_contract_returned(event: ContractReturnedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-returned", event.event_id, email(
        deps, "contract_returned", event.referent_email, contract_page(event), firstname=event.referent_firstname))


async def on_contract_signed(event: ContractSignedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-signed", event.event_id, email(
        deps, "contract_signed", event.referent_email, contract_page(event), firstname=event.referent_firstname,
        in_person=event.in_person, start_date=day(event.start_date), end_date=day(event.end_date)))


async def on_contract_ended(event: ContractEndedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-ended", event.event_id, email(
        deps, "contract_ended", event.beneficiary_email, "/mon-carnet/contrats",
        firstname=event.beneficiary_firstname, renewed=event.renewed, ended_on=day(event.ended_on)))


SUBSCRIPTIONS = (
    (f"{CONSUMER}-created", ContractCreatedV1, on_contract_created),
    (f"{CONSUMER}-submitted", ContractSubmittedV1, on_contract_submitted),
    (f"{CONSUMER}-validated", ContractValidatedV1, on_contract_validated),
    (f"{CONSUMER}-returned", ContractReturnedV1, on_contract_returned),
    (f"{CONSUMER}-signed", ContractSignedV1, on_contract_signed),
    (f"{CONSUMER}-ended", ContractEndedV1, on_contract_ended),
)


async def send_ending_reminders(deps: Deps, today: date) -> int:
    """The référent of each signed CER ending within 30 days is told once (per contract and end date: a CER whose
    end moves is reminded again)."""
    reply = await deps.call(ListContractsEndingV1(from_date=today, until=today + timedelta(days=REMINDER_DAYS)))
    sent = 0
    for ending in reply.contracts:
        messages = email(deps, "contract_ending", ending.referent_email,
                         f"/carnets/{ending.notebook_id}/contrats/{ending.contract_id}",
                         firstname=ending.referent_firstname, end_date=day(ending.end_date))
        if messages:
            key = uuid.uuid5(PERIODS, f"{ending.contract_id}:{ending.end_date.isoformat()}")
            sent += await queue_once(deps, REMINDER_SCHEDULE, key, messages)
    return sent
