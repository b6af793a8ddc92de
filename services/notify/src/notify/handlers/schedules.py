"""Scheduled messages: the reminder the day before an appointment, each day's digest of beneficiaries
waiting for a référent for structure admins, and the daily digest of professionals who chose one.

Each run is keyed by its period (an appointment and its time; a day), claimed in the inbox in the same
transaction as its messages: however many notify replicas run the schedule, each period is sent once.
"""
from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.notebook import (
    AppointmentBookedV1,
    AppointmentChangedV1,
    BeneficiaryContactChangedV1,
    ListWaitingForReferentV1,
)
from contracts.notify import Channel
from notify.adapters.orm import AppointmentCopy, OutgoingMessage
from notify.handlers import contract_messages
from notify.handlers.deps import Deps
from notify.handlers.notebook_messages import to_beneficiary
from notify.handlers.queue_message import Outgoing, page_url, queue_once
from notify.rendering import render_email
from servicekit import inbox

log = structlog.get_logger("notify.schedules")
PARIS = ZoneInfo("Europe/Paris")
COPY_CONSUMER = "notify-appointment-copies"
REMINDER_SCHEDULE = "notify-appointment-reminders"
DIGEST_SCHEDULE = "notify-waiting-digest"
DAILY_DIGEST_SCHEDULE = "notify-daily-digests"
CONTRACT_SCHEDULE = "notify-contract-reminder-runs"
PERIODS = uuid.UUID("6f1c3a52-9a8e-4c1e-8d2b-5b0c6e7f4a10")  # namespace of the periods' ids


def period_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(PERIODS, f"{kind}:{key}")


@inbox.exactly_once(COPY_CONSUMER)
async def on_appointment(event: AppointmentBookedV1 | AppointmentChangedV1, session: AsyncSession,
                         _deps: Deps) -> None:
    copy = await session.get(AppointmentCopy, event.appointment_id)
    if copy is not None and copy.occurred_at >= event.occurred_at:
        return
    if copy is None:
        if not isinstance(event, AppointmentBookedV1):
            return  # a change of an appointment booked before notify kept them: no contact to remind
        copy = AppointmentCopy(appointment_id=event.appointment_id, notebook_id=event.notebook_id,
                               status="planned", with_name=event.with_name, structure_name=event.structure_name,
                               beneficiary_phone=event.beneficiary_phone,
                               beneficiary_email=event.beneficiary_email,
                               beneficiary_channels=event.beneficiary_channels, contact_at=event.occurred_at)
        session.add(copy)
    if isinstance(event, AppointmentChangedV1):
        copy.status = event.status.value
    copy.at, copy.occurred_at = event.at, event.occurred_at


@inbox.exactly_once(COPY_CONSUMER)
async def on_contact_changed(event: BeneficiaryContactChangedV1, session: AsyncSession, _deps: Deps) -> None:
    """A new number, address or choice of channels: the reminders still to send go there."""
    copies = (await session.execute(select(AppointmentCopy).where(
        AppointmentCopy.notebook_id == event.notebook_id))).scalars().all()
    for copy in copies:
        if copy.contact_at is None or copy.contact_at < event.occurred_at:
            copy.beneficiary_phone, copy.beneficiary_email = event.phone, event.email
            copy.beneficiary_channels, copy.contact_at = event.channels, event.occurred_at


async def send_reminders(deps: Deps, now: datetime) -> int:
    """Tomorrow's planned appointments (Paris days) each get one reminder: by SMS, or by email without a mobile."""
    tomorrow = now.astimezone(PARIS).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), PARIS)
    async with deps.sessions() as session:
        due = (await session.execute(select(AppointmentCopy).where(
            AppointmentCopy.at >= start, AppointmentCopy.at < start + timedelta(days=1),
            AppointmentCopy.status == "planned"))).scalars().all()
    sent = 0
    for appointment in due:
        messages = to_beneficiary(deps, "appointment_reminder", appointment.beneficiary_phone,
                                  appointment.beneficiary_email, appointment.beneficiary_channels,
                                  when=appointment.at.astimezone(PARIS).strftime("à %H:%M"),
                                  with_name=appointment.with_name, structure=appointment.structure_name)
        if not messages:
            continue
        # Keyed by the appointment *and its time*: moved to another day, it is reminded again.
        key = period_id("reminder", f"{appointment.appointment_id}:{appointment.at.isoformat()}")
        sent += await queue_once(deps, REMINDER_SCHEDULE, key, messages)
    return sent


async def send_waiting_digest(deps: Deps, now: datetime) -> bool:
    """Once a day from ``digest_hour``: each structure admin whose structures have beneficiaries waiting."""
    local = now.astimezone(PARIS)
    if local.hour < deps.settings.digest_hour:
        return False
    key = period_id("digest", local.date().isoformat())
    async with deps.sessions() as session:
        if await inbox.seen(session, DIGEST_SCHEDULE, key):
            return False  # already sent today (by this replica or another): no need to ask notebook
    reply = await deps.call(ListWaitingForReferentV1())
    link = page_url(deps, "/beneficiaires?support=waiting")
    messages = [Outgoing("waiting_digest", Channel.email, r.email,
                         render_email("waiting_digest", links=[link], link=link, firstname=r.firstname,
                                      structures=r.structures)) for r in reply.recipients]
    return await queue_once(deps, DIGEST_SCHEDULE, key, messages)


async def send_daily_digests(deps: Deps, now: datetime) -> int:
    """Once a day from ``digest_hour``: one email per professional gathering the messages held for them."""
    local = now.astimezone(PARIS)
    if local.hour < deps.settings.digest_hour:
        return 0
    async with deps.sessions() as session:
        held = (await session.execute(select(OutgoingMessage).where(OutgoingMessage.status == "held")
                                      .order_by(OutgoingMessage.created_at))).scalars().all()
        by_recipient: dict[str, list[OutgoingMessage]] = defaultdict(list)
        for message in held:
            by_recipient[message.recipient].append(message)
        due = {recipient: messages for recipient, messages in by_recipient.items()
               if not await inbox.seen(session, DAILY_DIGEST_SCHEDULE, digest_period(local, recipient))}
    sent = 0
    for recipient, messages in due.items():
        items = [{"subject": m.subject, "link": m.links[0] if m.links else ""} for m in messages]
        email = render_email("daily_digest", links=[i["link"] for i in items if i["link"]], items=items,
                             preferences=page_url(deps, "/compte"))
        # Held after today's digest went out, a message waits for tomorrow's.
        sent += await queue_once(deps, DAILY_DIGEST_SCHEDULE, digest_period(local, recipient),
                                 [Outgoing("daily_digest", Channel.email, recipient, email)],
                                 absorbed=[m.id for m in messages])
    return sent


def digest_period(local: datetime, recipient: str) -> uuid.UUID:
    return period_id("daily-digest", f"{local.date().isoformat()}:{recipient}")


async def send_contract_reminders(deps: Deps, now: datetime) -> int:
    """Once a day from ``digest_hour``: the référents of CER ending within 30 days (each told once)."""
    local = now.astimezone(PARIS)
    if local.hour < deps.settings.digest_hour:
        return 0
    key = period_id("contract-reminders", local.date().isoformat())
    async with deps.sessions() as session:
        if await inbox.seen(session, CONTRACT_SCHEDULE, key):
            return 0  # today's run is done (here or on another replica): no need to ask notebook
    sent = await contract_messages.send_ending_reminders(deps, local.date())
    await queue_once(deps, CONTRACT_SCHEDULE, key, [])
    return sent


async def run_schedules(deps: Deps) -> None:
    while True:
        for schedule in (send_reminders, send_waiting_digest, send_daily_digests, send_contract_reminders):
            try:
                await schedule(deps, deps.clock())
            except asyncio.CancelledError:
                raise
            except Exception:  # notebook unreachable, a database hiccup: the next tick tries again
                log.exception("schedule_failed", schedule=schedule.__name__)
        await asyncio.sleep(deps.settings.schedule_interval_s)
