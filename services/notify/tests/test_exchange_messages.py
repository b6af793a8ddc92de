"""notebook.exchange.posted.v1 → an email to each member told (a question or a mention), linking to the thread and
never carrying its text; a member who chose the daily digest gets it there, the others at once. In memory, on SQLite
and PostgreSQL, with identity beside notify for the preferences."""
from __future__ import annotations

import uuid

import pytest

from contracts.exchanges import ExchangePostedV1, ExchangeRecipient
from contracts.notify import NotificationFrequency, ReadDevMailboxV1, SetMyNotificationPreferencesV1
from contracts.profiles import ProfessionalCreatedV1
from testkit.handlers import InMemoryService, signed_in

pytestmark = pytest.mark.integration


def professional(firstname: str) -> ProfessionalCreatedV1:
    return ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=uuid.uuid4(), firstname=firstname,
                                 lastname="Pro", email=f"{firstname.lower()}.{uuid.uuid4().hex[:8]}@test.carnet.fr",
                                 structure_ids=[uuid.uuid4()])


async def mailbox(notify: InMemoryService, to: str) -> list:
    return (await notify.call(ReadDevMailboxV1(to=to))).messages


async def test_each_member_told_gets_a_link_at_once_or_in_the_digest(services_under_test):
    notify, identity = await services_under_test("notify", "identity")
    pierre, simon = professional("Pierre"), professional("Simon")
    token = await signed_in(identity, simon)
    await notify.call(SetMyNotificationPreferencesV1(frequency=NotificationFrequency.daily), token)
    posted = ExchangePostedV1(
        notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(), exchange_id=uuid.uuid4(),
        author_name="Éloïse Martin", recipients=[
            ExchangeRecipient(email=pierre.email, firstname="Pierre", addressed=True),
            ExchangeRecipient(email=simon.email, firstname="Simon")])
    await notify.deliver(posted)
    await notify.deliver(posted)  # redelivered: told once

    [message] = await mailbox(notify, pierre.email)
    assert message.subject == "Une question vous est posée sur un carnet de bord"
    assert "Éloïse Martin vous pose une question" in message.text
    [link] = message.links
    assert link.endswith(f"/carnets/{posted.notebook_id}/echanges#echange-{posted.exchange_id}")
    assert await mailbox(notify, simon.email) == []  # held for his daily digest

    await notify.call(SetMyNotificationPreferencesV1(frequency=NotificationFrequency.immediate), token)
    [held] = await mailbox(notify, simon.email)
    assert held.subject == "Vous êtes mentionné dans les échanges d'un carnet de bord"
