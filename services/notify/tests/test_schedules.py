"""Schedules run once per period whatever the number of notify replicas: two replicas on one database race
for the digest and the reminders, and each message is queued once."""
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
    WaitingDigestRecipient,
    WaitingDigestReply,
    WaitingStructure,
)
from notify.adapters.orm import OutgoingMessage
from notify.config import NotifySettings
from notify.handlers.deps import Deps
from notify.handlers.schedules import on_appointment, send_reminders, send_waiting_digest
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
