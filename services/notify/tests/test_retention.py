"""Retention in notify (issue 21), on SQLite and PostgreSQL: on ``notebook.retention.due.v1`` notify asks the notebook
which values to look for, then deletes the messages to her addresses, those naming her or linking to her notebook,
her appointments' copies, her notebook's webhook deliveries (their payloads) and their attempts, and confirms with
``notify.retention.purged.v1``; the other messages and deliveries stay."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from contracts.retention import GetRetentionSubjectV1, NotifyRetentionPurgedV1, RetentionDueV1, RetentionSubject
from notify.adapters.orm import AppointmentCopy, OutgoingMessage, WebhookAttempt, WebhookDelivery
from testkit.handlers import InMemoryService, answer_jwks, build_service, in_memory

NOTEBOOK, BENEFICIARY, OTHER_NOTEBOOK = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def message(recipient: str, text: str) -> OutgoingMessage:
    now = datetime.now(UTC)
    return OutgoingMessage(source_event_id=uuid.uuid4(), template="t", channel="email", recipient=recipient,
                           subject="Carnet de bord", text=text, links=[], status="sent", created_at=now,
                           next_attempt_at=now, sent_at=now)


def delivery(notebook_id: uuid.UUID) -> WebhookDelivery:
    now = datetime.now(UTC)
    return WebhookDelivery(id=uuid.uuid4(), subscription_id=uuid.uuid4(), event_id=uuid.uuid4(), event_type="x",
                           deployment_id=uuid.uuid4(), notebook_id=notebook_id, body='{"nom": "Quokka"}',
                           status="delivered", created_at=now, next_attempt_at=now, delivered_at=now)


async def subject(request: GetRetentionSubjectV1, _ctx) -> RetentionSubject:
    """The notebook's answer, in its stead."""
    assert request.notebook_id == NOTEBOOK
    return RetentionSubject(notebook_id=NOTEBOOK, beneficiary_id=BENEFICIARY, known=True, firstname="Zoé",
                            lastname="Quokka", emails=["zoe.quokka@exemple.fr"], phones=["+33677889900"])


async def test_notify_erases_what_it_holds_about_her_and_confirms(handler_databases, token_mint):
    service = build_service("notify", await handler_databases.url("notify"))
    answer_jwks(service, token_mint)
    service.bus.handle(GetRetentionSubjectV1, subject)
    async with in_memory(service) as (notify,):
        await erases_and_confirms(notify)


async def erases_and_confirms(notify: InMemoryService) -> None:

    mine, other = delivery(NOTEBOOK), delivery(OTHER_NOTEBOOK)
    async with notify.sessions.begin() as session:
        session.add_all([
            message("zoe.quokka@exemple.fr", "Votre lien de connexion"),
            message("+33677889900", "Rappel : rendez-vous demain"),
            message("pierre@structure.fr", "Vous avez été ajouté au carnet de Zoé Quokka"),
            message("pierre@structure.fr", f"Nouveau message : https://carnet.test/carnets/{NOTEBOOK}"),
            message("pierre@structure.fr", "Vous avez été ajouté au carnet de Marc Autre"),
            AppointmentCopy(appointment_id=uuid.uuid4(), notebook_id=NOTEBOOK, at=datetime.now(UTC),
                            status="planned", beneficiary_phone="06 77 88 99 00", occurred_at=datetime.now(UTC)),
            mine, other])
        await session.flush()
        session.add_all([WebhookAttempt(delivery_id=d.id, attempted_at=datetime.now(UTC)) for d in (mine, other)])

    await notify.deliver(RetentionDueV1(notebook_id=NOTEBOOK, deployment_id=uuid.uuid4(), beneficiary_id=BENEFICIARY,
                                        due_since=date(2026, 1, 1)))
    async with notify.sessions() as session:
        assert (await session.scalars(select(OutgoingMessage.text))).all() == [
            "Vous avez été ajouté au carnet de Marc Autre"]
        assert (await session.scalars(select(AppointmentCopy))).all() == []
        assert (await session.scalars(select(WebhookDelivery.notebook_id))).all() == [OTHER_NOTEBOOK]
        assert (await session.scalars(select(WebhookAttempt.delivery_id))).all() == [other.id]
    assert [e.notebook_id for e in await notify.events(NotifyRetentionPurgedV1.subject)] == [NOTEBOOK]
