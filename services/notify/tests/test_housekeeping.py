"""What notify keeps for a fixed time is deleted once past it, by the service itself as soon as it starts (and a few
times a day), on both databases: messages (recipients and texts) after 90 days, webhooks' payloads and their
attempts after 30, published outbox rows after 7; what is younger stays."""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from notify.adapters.orm import OutgoingMessage, WebhookAttempt, WebhookDelivery
from notify.bootstrap import build
from notify.config import NotifySettings
from servicekit.db import create_engine, sessionmaker
from servicekit.housekeeping import delete_expired
from servicekit.messaging import outbox_table
from servicekit.topology import SERVICES_BY_NAME

pytestmark = pytest.mark.integration


def message(age: timedelta) -> OutgoingMessage:
    at = datetime.now(UTC) - age
    return OutgoingMessage(source_event_id=uuid.uuid4(), template="t", channel="email", recipient="helene@example.fr",
                           subject="Bonjour", text="Hélène Çelik", links=[], status="sent", created_at=at,
                           next_attempt_at=at, sent_at=at)


def delivery(age: timedelta) -> WebhookDelivery:
    at = datetime.now(UTC) - age
    return WebhookDelivery(id=uuid.uuid4(), subscription_id=uuid.uuid4(), event_id=uuid.uuid4(), event_type="x",
                           deployment_id=uuid.uuid4(), notebook_id=uuid.uuid4(), body='{"nom": "Çelik"}',
                           status="delivered", created_at=at, next_attempt_at=at, delivered_at=at)


async def counts(sessions) -> dict[str, int]:
    async with sessions() as session:
        return {table.name: await session.scalar(select(func.count()).select_from(table))
                for table in (OutgoingMessage.__table__, WebhookDelivery.__table__, WebhookAttempt.__table__,
                              outbox_table)}


async def test_notify_deletes_what_is_past_its_time_when_it_starts(nats_url, databases):
    url = await databases.create("notify", SERVICES_BY_NAME["notify"].migrations_dir)
    engine = create_engine(url)
    sessions = sessionmaker(engine)
    old, young = delivery(timedelta(days=31)), delivery(timedelta(days=29))
    async with sessions() as session, session.begin():
        session.add_all([message(timedelta(days=91)), message(timedelta(days=89)), old, young])
        # A delivery's attempts go with it, even one made later than the delivery's own limit.
        session.add_all([WebhookAttempt(delivery_id=d.id, attempted_at=datetime.now(UTC) - timedelta(days=d_age))
                         for d, d_age in ((old, 31), (old, 2), (young, 29))])
        await session.execute(insert(outbox_table), [
            {"event_id": uuid.uuid4(), "subject": "notify.x.v1", "payload": b"{}", "headers": {},
             "created_at": datetime.now(UTC) - timedelta(days=days),
             "published_at": datetime.now(UTC) - timedelta(days=days)} for days in (8, 6)])
    assert await counts(sessions) == {"outgoing_message": 2, "webhook_delivery": 2, "webhook_attempt": 3, "outbox": 2}

    service = build(NotifySettings(nats_url=nats_url, database_url=url, env="dev"))
    await service.start()
    try:
        expected = {"outgoing_message": 1, "webhook_delivery": 1, "webhook_attempt": 1, "outbox": 1}
        for _ in range(100):
            if await counts(sessions) == expected:
                break
            await asyncio.sleep(0.1)
        assert await counts(sessions) == expected
        async with sessions() as session:
            assert await session.scalar(select(WebhookDelivery.id)) == young.id
        # Idempotent: replicas may all run it, and again.
        assert set((await delete_expired(sessions, service.kept)).values()) == {0}
    finally:
        await service.stop()
        await engine.dispose()
