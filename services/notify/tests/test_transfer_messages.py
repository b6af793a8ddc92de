"""Another territory's events through notify's broker in memory, on SQLite and PostgreSQL: who is emailed, once each
(an event delivered twice is told once), with a link to the page to open and no reason in the email."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from contracts.notify import ReadDevMailboxV1
from contracts.transfers import ReferralGrantedV1, TransferAcceptedV1, TransferRefusedV1, TransferRequestedV1
from testkit.handlers import InMemoryService

pytestmark = pytest.mark.integration


async def mailbox(notify: InMemoryService, to: str) -> list:
    return (await notify.call(ReadDevMailboxV1(to=to))).messages


def ids() -> dict:
    return dict(notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(),
                transfer_id=uuid.uuid4(), from_deployment_id=uuid.uuid4(), from_label="Seine-Saint-Denis",
                to_deployment_id=uuid.uuid4(), to_label="Isère")


async def test_each_step_of_a_transfer_and_a_referral_is_told_to_whom_it_concerns(service_under_test):
    notify = await service_under_test("notify")
    tag = uuid.uuid4().hex[:6]
    managers = [f"gestion-{tag}@cd38.fr", f"adjoint-{tag}@cd38.fr"]
    requested = TransferRequestedV1(**ids(), reason="Déménagement", manager_emails=managers)
    await notify.deliver(requested)
    await notify.deliver(requested)  # at least once: told once
    for to in managers:
        [message] = await mailbox(notify, to)
        assert message.subject == "Un carnet de bord attend votre décision de transfert"
        assert message.links[0].endswith("/transferts") and "Déménagement" not in message.text

    sophie = f"sophie-{tag}@test.carnet.fr"
    await notify.deliver(TransferAcceptedV1(**ids(), beneficiary_email=sophie, beneficiary_firstname="Sophie"))
    [told] = await mailbox(notify, sophie)
    assert told.subject == "Votre carnet de bord change de territoire" and "Isère" in told.text
    assert told.links[0].endswith("/mon-carnet")

    requester = f"agathe-{tag}@cd93.fr"
    await notify.deliver(TransferRefusedV1(**ids(), requested_by_email=requester, reason="Adresse inconnue"))
    [refusal] = await mailbox(notify, requester)
    assert refusal.subject.startswith("Une demande de transfert") and "Adresse inconnue" not in refusal.text

    invited = f"camille-{tag}@ml38.fr"
    granted = ReferralGrantedV1(notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(),
                                referral_id=uuid.uuid4(), person_id=uuid.uuid4(), person_email=invited,
                                person_firstname="Camille", territory_label="Seine-Saint-Denis",
                                until=date(2027, 1, 31))
    await notify.deliver(granted)
    [invitation] = await mailbox(notify, invited)
    assert "31/01/2027" in invitation.text and invitation.links[0].endswith(f"/carnets/{granted.notebook_id}")
    # Nobody to tell: nothing queued.
    await notify.deliver(TransferRefusedV1(**ids(), requested_by_email=""))
