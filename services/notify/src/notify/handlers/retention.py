"""Retention (issue 21): a beneficiary's notebook past its territory's retention — notify erases what it holds about
her: the messages sent to her addresses or naming her (or linking to her notebook), the appointments' copies kept
for reminders, the webhook deliveries about her notebook (their payloads) and their attempts, her preferences, and
its published events that mention her (outbox and stream NOTIFY). The values to look for are asked of the notebook (core NATS, never kept);
then notify confirms with ``notify.retention.purged.v1``."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.retention import GetRetentionSubjectV1, NotifyRetentionPurgedV1, RetentionDueV1, RetentionSubject
from notify.adapters.orm import AppointmentCopy, NotificationPreference, OutgoingMessage, WebhookAttempt, WebhookDelivery
from notify.handlers.deps import Deps
from servicekit import inbox
from servicekit.retention import SWEPT_STREAMS, forget_in_streams, forget_published

CONSUMER = "notify-retention"


async def on_retention_due(event: RetentionDueV1, _meta, deps: Deps, streams: Callable[[], Any] | None = None) -> None:
    # Asked before the transaction (an RPC must not hold one); a failure is retried with the message.
    subject: RetentionSubject = await deps.call(GetRetentionSubjectV1(notebook_id=event.notebook_id))

    async def erase(session: AsyncSession) -> None:
        await erase_subject(session, event, subject)
        await deps.outbox.add(session, NotifyRetentionPurgedV1(notebook_id=event.notebook_id))

    await inbox.apply_once(deps.sessions, CONSUMER, event.event_id, erase)
    if streams is not None:  # its events on NOTIFY (sent, failed) that name her; again on a redelivery: no harm
        await forget_in_streams(streams(), SWEPT_STREAMS["notify"], [
            event.notebook_id, event.beneficiary_id, *subject.emails, *subject.phones, subject.nir,
            *((f"{subject.firstname} {subject.lastname}",) if subject.lastname else ())])


async def erase_subject(session: AsyncSession, event: RetentionDueV1, subject: RetentionSubject) -> None:
    copies = (await session.execute(select(AppointmentCopy.beneficiary_email, AppointmentCopy.beneficiary_phone)
                                    .where(AppointmentCopy.notebook_id == event.notebook_id))).all()
    addresses = {a.strip().lower() for a in subject.emails + [c.beneficiary_email for c in copies] if a.strip()}
    phones = {p.strip() for p in subject.phones + [c.beneficiary_phone for c in copies] if p.strip()}
    texts = {str(event.notebook_id)}
    if subject.firstname and subject.lastname:
        texts |= {f"{subject.firstname} {subject.lastname}".lower(), f"{subject.lastname} {subject.firstname}".lower()}
    if subject.nir:
        texts.add(subject.nir)
    about_her = [func.lower(OutgoingMessage.recipient).in_(addresses | phones)] if addresses | phones else []
    for text in texts:
        about_her += [func.lower(OutgoingMessage.subject).contains(text, autoescape=True),
                      func.lower(OutgoingMessage.text).contains(text, autoescape=True)]
    await session.execute(delete(OutgoingMessage).where(or_(*about_her)))
    await session.execute(delete(AppointmentCopy).where(AppointmentCopy.notebook_id == event.notebook_id))
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.notebook_id == event.notebook_id)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.notebook_id == event.notebook_id))
    if addresses:
        await session.execute(delete(NotificationPreference).where(
            func.lower(NotificationPreference.email).in_(addresses)))
    await forget_published(session, [event.notebook_id, event.beneficiary_id, *addresses, *phones, *texts])
