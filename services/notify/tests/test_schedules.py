"""Schedules run once per period whatever the number of notify replicas: two replicas on one database race
for the digests and the reminders, and each message is queued once. Reminders follow the beneficiary's
contact details and chosen channels; professionals who chose it get their non-urgent messages once a day."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from contracts.notebook import (
    AppointmentBookedV1,
    AppointmentChangedV1,
    AppointmentStatus,
    BeneficiaryContactChangedV1,
    WaitingDigestRecipient,
    WaitingDigestReply,
    WaitingStructure,
)
from contracts.notify import Channel
from notify.adapters.orm import NotificationPreference, OutgoingMessage
from notify.config import NotifySettings
from notify.handlers.deps import Deps
from notify.handlers.queue_message import Outgoing, queue_once
from notify.handlers.schedules import (
    on_appointment,
    on_contact_changed,
    send_daily_digests,
    send_reminders,
    send_waiting_digest,
)
from notify.rendering import render_email
from servicekit.db import create_engine, sessionmaker
from servicekit.outbox import Outbox
from servicekit.topology import SERVICES_BY_NAME

pytestmark = pytest.mark.integration
PARIS = ZoneInfo("Europe/Paris")
MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
NOTEBOOK, BENEFICIARY, DEPLOYMENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@pytest.fixture
async def replicas(databases):
    """Two notify replicas sharing one database, each with its own engine (its own connections)."""
    url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
    engines = [create_engine(url), create_engine(url)]
    asked = []

    async def call(request):
        asked.append(request)
        return WaitingDigestReply(recipients=[
            WaitingDigestRecipient(email="jacques@ccas.fr", firstname="Jacques", structures=[
                WaitingStructure(structure_id=uuid.uuid4(), name="CCAS de Livry-Gargan", waiting=3)]),
            WaitingDigestRecipient(email="vincent@groupe-ns.fr", structures=[
                WaitingStructure(structure_id=uuid.uuid4(), name="Groupe NS", waiting=1)])])

    yield [Deps(sessions=sessionmaker(e), outbox=Outbox(), call=call,
                settings=NotifySettings(public_url="https://carnet.example.fr")) for e in engines]
    for engine in engines:
        await engine.dispose()


async def queued(deps: Deps) -> list[OutgoingMessage]:
    async with deps.sessions() as session:
        return list((await session.execute(select(OutgoingMessage).order_by(OutgoingMessage.recipient))).scalars())


async def test_the_digest_goes_once_a_day_from_its_hour_even_with_two_replicas(replicas):
    first, second = replicas
    assert not await send_waiting_digest(first, MORNING.replace(hour=6))  # before the hour: nothing
    results = await asyncio.gather(send_waiting_digest(first, MORNING), send_waiting_digest(second, MORNING))
    assert sorted(results) == [False, True]
    await send_waiting_digest(second, MORNING + timedelta(hours=3))
    messages = await queued(first)
    assert [(m.recipient, m.template) for m in messages] == [("jacques@ccas.fr", "waiting_digest"),
                                                             ("vincent@groupe-ns.fr", "waiting_digest")]
    assert "CCAS de Livry-Gargan : 3 bénéficiaires" in messages[0].text
    await send_waiting_digest(first, MORNING + timedelta(days=1))  # the next day: a new digest
    assert len(await queued(first)) == 4


def booked(at: datetime, phone: str = "+33612345678") -> AppointmentBookedV1:
    return AppointmentBookedV1(notebook_id=NOTEBOOK, deployment_id=DEPLOYMENT, beneficiary_id=BENEFICIARY,
                               appointment_id=uuid.uuid4(), person_id=uuid.uuid4(), at=at,
                               with_name="Pierre Chevalier", structure_name="CCAS", beneficiary_phone=phone)


async def test_each_appointment_is_reminded_once_the_day_before_and_again_if_moved(replicas):
    first, second = replicas
    tomorrow = booked((MORNING + timedelta(days=1)).replace(hour=15, minute=45))
    later = booked(MORNING + timedelta(days=3))
    for event in (tomorrow, later, tomorrow):  # a redelivered event changes nothing
        await on_appointment(event, None, first)
    await asyncio.gather(send_reminders(first, MORNING), send_reminders(second, MORNING))
    await send_reminders(second, MORNING + timedelta(hours=5))
    [reminder] = await queued(first)
    assert reminder.channel == "sms" and "rappel, rendez-vous demain à 15:45" in reminder.text

    moved = AppointmentChangedV1(notebook_id=NOTEBOOK, deployment_id=DEPLOYMENT, beneficiary_id=BENEFICIARY,
                                 appointment_id=later.appointment_id, at=MORNING + timedelta(days=1, hours=2),
                                 status=AppointmentStatus.planned)
    await on_appointment(moved, None, second)
    await send_reminders(first, MORNING)
    assert len(await queued(first)) == 2

    cancelled = booked((MORNING + timedelta(days=1)).replace(hour=9))
    await on_appointment(cancelled, None, first)
    await on_appointment(AppointmentChangedV1(
        notebook_id=NOTEBOOK, deployment_id=DEPLOYMENT, beneficiary_id=BENEFICIARY,
        appointment_id=cancelled.appointment_id, at=cancelled.at, status=AppointmentStatus.cancelled), None, first)
    await send_reminders(first, MORNING)
    assert len(await queued(first)) == 2  # a cancelled appointment is not reminded


async def test_reminders_follow_a_new_number_and_the_channels_the_beneficiary_chose(replicas):
    first, _second = replicas
    appointment = booked((MORNING + timedelta(days=1)).replace(hour=10), phone="+33612345678")
    await on_appointment(appointment, None, first)
    older = BeneficiaryContactChangedV1(notebook_id=NOTEBOOK, deployment_id=DEPLOYMENT, beneficiary_id=BENEFICIARY,
                                        phone="+33600000000", occurred_at=appointment.occurred_at - timedelta(hours=1))
    changed = BeneficiaryContactChangedV1(notebook_id=NOTEBOOK, deployment_id=DEPLOYMENT, beneficiary_id=BENEFICIARY,
                                          phone="+33798765432", email="sophie@example.fr",
                                          channels=[Channel.sms, Channel.email])
    await on_contact_changed(changed, None, first)
    await on_contact_changed(older, None, first)  # arriving late, an older state changes nothing
    await send_reminders(first, MORNING)
    assert [(m.channel, m.recipient) for m in await queued(first)] == [
        ("sms", "+33798765432"), ("email", "sophie@example.fr")]


def invitation(to: str) -> Outgoing:
    return Outgoing("notebook_invitation", Channel.email, to, render_email(
        "notebook_invitation", links=["https://carnet.example.fr/carnets/1"], link="https://carnet.example.fr/carnets/1",
        firstname="Paul", invited_by="Pierre Chevalier"))


async def test_who_chose_the_daily_digest_gets_non_urgent_messages_once_a_day_even_with_two_replicas(replicas):
    first, second = replicas
    async with first.sessions() as session, session.begin():
        session.add(NotificationPreference(account_id=uuid.uuid4(), email="paul@ccas.fr", frequency="daily",
                                           updated_at=MORNING))
    for to in ("paul@ccas.fr", "simon@groupe-ns.fr"):
        await queue_once(first, "test-invitations", uuid.uuid4(), [invitation(to)])
    await queue_once(first, "test-invitations", uuid.uuid4(), [invitation("paul@ccas.fr")])
    statuses = {(m.recipient, m.status) for m in await queued(first)}
    assert statuses == {("paul@ccas.fr", "held"), ("simon@groupe-ns.fr", "pending")}

    assert await send_daily_digests(first, MORNING.replace(hour=6)) == 0  # before the hour
    sent = await asyncio.gather(send_daily_digests(first, MORNING), send_daily_digests(second, MORNING))
    assert sorted(sent) == [0, 1]
    [digest] = [m for m in await queued(first) if m.template == "daily_digest"]
    assert digest.recipient == "paul@ccas.fr" and digest.status == "pending"
    assert digest.text.count("- Invitation à rejoindre un carnet de bord") == 2 and len(digest.links) == 2
    assert [m.status for m in await queued(first) if m.template == "notebook_invitation"
            and m.recipient == "paul@ccas.fr"] == ["digested", "digested"]

    # Held after today's digest went out: it waits for tomorrow's.
    await queue_once(first, "test-invitations", uuid.uuid4(), [invitation("paul@ccas.fr")])
    assert await send_daily_digests(second, MORNING + timedelta(hours=4)) == 0
    assert await send_daily_digests(second, MORNING + timedelta(days=1)) == 1
