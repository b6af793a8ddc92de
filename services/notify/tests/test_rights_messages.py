"""Rights requests' events → emails: whoever answers hears of a new request and of one due soon or late (each
recipient once, even when the event comes twice); the beneficiary hears that hers was answered, with a link to
« Mes données » and never the request's text. In memory, on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from contracts.notify import ReadDevMailboxV1
from contracts.rights import (
    RightsRequestAnsweredV1,
    RightsRequestCreatedV1,
    RightsRequestKind,
    RightsRequestsDueV1,
)
from testkit.handlers import InMemoryService

pytestmark = pytest.mark.integration


async def mailbox(notify: InMemoryService, to: str) -> list:
    return (await notify.call(ReadDevMailboxV1(to=to))).messages


def ids() -> dict:
    return dict(notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(),
                request_id=uuid.uuid4())


async def test_those_who_answer_and_the_beneficiary_are_told(service_under_test):
    notify = await service_under_test("notify")
    tag = uuid.uuid4().hex[:8]
    pierre, marie, sophie = (f"{n}.{tag}@test.carnet.fr" for n in ("pierre", "marie", "sophie"))
    created = RightsRequestCreatedV1(**ids(), kind=RightsRequestKind.rectification, due_on=date(2027, 1, 15),
                                     beneficiary_name="Sophie Tifour", recipients=[pierre, marie])
    await notify.deliver(created)
    await notify.deliver(created)  # redelivered: told once
    for to in (pierre, marie):
        [message] = await mailbox(notify, to)
        assert message.subject == "Une demande RGPD attend votre réponse"
        assert "Sophie Tifour a fait une demande de rectification" in message.text and "15/01/2027" in message.text
        assert message.links[0].endswith(f"/carnets/{created.notebook_id}/demandes-rgpd")

    due = RightsRequestsDueV1(**ids(), kind=RightsRequestKind.objection, due_on=date(2027, 1, 1), overdue=True,
                              beneficiary_name="Sophie Tifour", recipients=[marie])
    await notify.deliver(due)
    late = [m for m in await mailbox(notify, marie) if m.subject == "Une demande RGPD est en retard"]
    assert len(late) == 1 and "elle était due le 01/01/2027" in late[0].text

    answered = RightsRequestAnsweredV1(**ids(), kind=RightsRequestKind.rectification, due_on=date(2027, 1, 15),
                                       accepted=True, beneficiary_email=sophie, beneficiary_firstname="Sophie")
    await notify.deliver(answered)
    [message] = await mailbox(notify, sophie)
    assert message.subject == "Votre demande a reçu une réponse" and "Bonjour Sophie" in message.text
    assert message.links[0].endswith("/mon-carnet/mes-donnees")
