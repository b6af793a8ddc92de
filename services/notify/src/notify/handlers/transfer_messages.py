"""Another territory's events → emails: the destination's managers hear that a transfer waits for them, the
requester that it was refused (the reasons stay on the page, never in an email), the beneficiary that her notebook
now belongs to her new territory, and a professional of another territory that they are invited into a group until
a date."""
from __future__ import annotations

from contracts.transfers import ReferralGrantedV1, TransferAcceptedV1, TransferRefusedV1, TransferRequestedV1
from notify.handlers.contract_messages import day, email
from notify.handlers.deps import Deps
from notify.handlers.queue_message import queue_once
from servicekit.consumers import EventMeta

CONSUMER = "notify-transfers"


async def on_transfer_requested(event: TransferRequestedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-requested", event.event_id, [
        message for to in event.manager_emails
        for message in email(deps, "transfer_requested", to, "/transferts", from_label=event.from_label,
                             to_label=event.to_label)])


async def on_transfer_accepted(event: TransferAcceptedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-accepted", event.event_id, email(
        deps, "transfer_accepted", event.beneficiary_email, "/mon-carnet", firstname=event.beneficiary_firstname,
        from_label=event.from_label, to_label=event.to_label))


async def on_transfer_refused(event: TransferRefusedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-refused", event.event_id, email(
        deps, "transfer_refused", event.requested_by_email, "/transferts", to_label=event.to_label))


async def on_referral_granted(event: ReferralGrantedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(deps, f"{CONSUMER}-referral", event.event_id, email(
        deps, "referral_granted", event.person_email, f"/carnets/{event.notebook_id}",
        firstname=event.person_firstname, territory_label=event.territory_label, until=day(event.until)))


SUBSCRIPTIONS = (
    (f"{CONSUMER}-requested", TransferRequestedV1, on_transfer_requested),
    (f"{CONSUMER}-accepted", TransferAcceptedV1, on_transfer_accepted),
    (f"{CONSUMER}-refused", TransferRefusedV1, on_transfer_refused),
    (f"{CONSUMER}-referral", ReferralGrantedV1, on_referral_granted),
)
