"""A bulk orientation decision → one email to the référent it chose, with the count and a link to their
beneficiaries; each notebook's notebook.orientation.changed.v1 of that decision sends none (a single orientation
still does). Once, even when the event comes twice. In memory, on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

import pytest

from contracts.bulk_orientation import BulkOrientationDecidedV1
from contracts.notebook import OrientationChangedV1
from contracts.notify import ReadDevMailboxV1
from testkit.handlers import InMemoryService

pytestmark = pytest.mark.integration


async def mailbox(notify: InMemoryService, to: str) -> list:
    return (await notify.call(ReadDevMailboxV1(to=to))).messages


async def test_the_referent_hears_of_a_bulk_decision_once_not_once_per_notebook(service_under_test):
    notify = await service_under_test("notify")
    to = f"simon.{uuid.uuid4().hex[:8]}@test.carnet.fr"
    decision_id, deployment_id, system_id, structure_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for _ in range(3):
        await notify.deliver(OrientationChangedV1(
            notebook_id=uuid.uuid4(), deployment_id=deployment_id, beneficiary_id=uuid.uuid4(), reorientation=False,
            orientation_system_id=system_id, orientation_system_name="Social", structure_id=structure_id,
            structure_name="Groupe NS", referent_id=uuid.uuid4(), referent_email=to, referent_firstname="Simon",
            decision_id=decision_id))
    decided = BulkOrientationDecidedV1(
        decision_id=decision_id, deployment_id=deployment_id, decided_by_name="Giulia Diaby",
        orientation_system_id=system_id, orientation_system_name="Social", structure_id=structure_id,
        structure_name="Groupe NS", referent_id=uuid.uuid4(), referent_email=to, referent_firstname="Simon",
        done=3, refused=1)
    await notify.deliver(decided)
    await notify.deliver(decided)  # redelivered: told once

    [message] = await mailbox(notify, to)
    assert message.subject == "Des bénéficiaires vous sont orientés"
    assert "Giulia Diaby vient d'orienter 3 bénéficiaires" in message.text and "« Social »" in message.text
    [link] = message.links
    assert link.endswith("/beneficiaires?mine=1")

    # A single orientation still tells its référent; a decision without a référent tells nobody.
    await notify.deliver(OrientationChangedV1(
        notebook_id=uuid.uuid4(), deployment_id=deployment_id, beneficiary_id=uuid.uuid4(), reorientation=True,
        orientation_system_id=system_id, orientation_system_name="Social", structure_id=structure_id,
        structure_name="Groupe NS", referent_email=to, referent_firstname="Simon"))
    assert len(await mailbox(notify, to)) == 2
    await notify.deliver(decided.model_copy(update={"event_id": uuid.uuid4(), "referent_email": ""}))
    assert len(await mailbox(notify, to)) == 2
