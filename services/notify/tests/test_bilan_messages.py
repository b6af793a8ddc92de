"""notebook.bilan.created.v1 → an email to the beneficiary linking to her bilan on /mon-carnet, never carrying its
content; once, even when the event comes twice; none without an address. In memory, on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from contracts.bilans import BilanCreatedV1
from contracts.notify import ReadDevMailboxV1
from testkit.handlers import InMemoryService

pytestmark = pytest.mark.integration


async def mailbox(notify: InMemoryService, to: str) -> list:
    return (await notify.call(ReadDevMailboxV1(to=to))).messages


async def test_the_beneficiary_hears_of_her_bilan_once(service_under_test):
    notify = await service_under_test("notify")
    to = f"sophie.{uuid.uuid4().hex[:8]}@test.carnet.fr"
    created = BilanCreatedV1(
        notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(), bilan_id=uuid.uuid4(),
        bilan_date=date(2026, 12, 1), author_name="Pierre Chevalier", beneficiary_email=to,
        beneficiary_firstname="Sophie", referent_email="pierre@test.carnet.fr")
    await notify.deliver(created)
    await notify.deliver(created)  # redelivered: told once

    [message] = await mailbox(notify, to)
    assert message.subject == "Un bilan de votre accompagnement est disponible"
    assert "Bonjour Sophie" in message.text and "Pierre Chevalier a rédigé" in message.text
    assert "01/12/2026" in message.text
    [link] = message.links
    assert link.endswith(f"/mon-carnet/bilans/{created.bilan_id}")
    assert await mailbox(notify, "pierre@test.carnet.fr") == []

    # Without the beneficiary's address, nobody is written to.
    await notify.deliver(created.model_copy(update={"event_id": uuid.uuid4(), "beneficiary_email": ""}))
    assert len(await mailbox(notify, to)) == 1
