"""Notebook events → webhook deliveries: one per subscription that asked for the event's type in the event's
territory, queued in the transaction that claims the event in the inbox (a redelivered event queues nothing)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.notebook import (
    AppointmentBookedV1,
    ContractValidatedV1,
    NotebookEvent,
    OrientationChangedV1,
    ReferentChangedV1,
)
from notify.adapters.orm import WebhookDelivery, WebhookSubscription
from notify.domain.webhooks import event_type_of, payload_of
from notify.handlers.deps import Deps
from servicekit import inbox
from servicekit.consumers import EventMeta

ORIENTATION_CONSUMER = "notify-webhooks-orientations"
REFERENT_CONSUMER = "notify-webhooks-referents"
APPOINTMENT_CONSUMER = "notify-webhooks-appointments"
CONTRACT_CONSUMER = "notify-webhooks-contracts"


async def queue_deliveries(event: NotebookEvent, session: AsyncSession, deps: Deps) -> None:
    event_type, territory = event_type_of(event).value, str(event.deployment_id)
    # Subscriptions are a handful (one per partner): matching their JSON lists here is simpler than a query
    # that differs between SQLite and PostgreSQL. A paused one gets its deliveries too, sent when resumed.
    subscriptions = (await session.execute(select(WebhookSubscription))).scalars().all()
    body, now = payload_of(event).decode(), deps.clock()
    for subscription in subscriptions:
        if event_type in subscription.event_types and territory in subscription.deployment_ids:
            session.add(WebhookDelivery(
                subscription_id=subscription.id, event_id=event.event_id, event_type=event_type,
                deployment_id=event.deployment_id, notebook_id=event.notebook_id, body=body, status="pending",
                attempts=0, created_at=now, next_attempt_at=now))


async def queue_once(consumer: str, event: NotebookEvent, deps: Deps) -> None:
    if await inbox.apply_once(deps.sessions, consumer, event.event_id,
                              lambda session: queue_deliveries(event, session, deps)):
        deps.webhooks_queued.set()


async def on_orientation_changed(event: OrientationChangedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(ORIENTATION_CONSUMER, event, deps)


async def on_referent_changed(event: ReferentChangedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(REFERENT_CONSUMER, event, deps)


async def on_appointment_booked(event: AppointmentBookedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(APPOINTMENT_CONSUMER, event, deps)


async def on_contract_validated(event: ContractValidatedV1, _meta: EventMeta, deps: Deps) -> None:
    await queue_once(CONTRACT_CONSUMER, event, deps)
