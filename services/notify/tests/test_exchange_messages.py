"""notebook.exchange.posted.v1 → an email to each member told (a question, a mention, the beneficiary's answer),
linking to the thread and never carrying its text; a member who chose the daily digest gets it there, the others at
once; the beneficiary hears of a message shared with her on her channels. In memory, on SQLite and PostgreSQL, with
identity beside notify for the preferences."""
from __future__ import annotations

import uuid

import pytest

from contracts.exchanges import ExchangePostedV1, ExchangeRecipient
from contracts.notify import Channel, NotificationFrequency, ReadDevMailboxV1, SetMyNotificationPreferencesV1
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


async def test_the_beneficiary_hears_of_a_message_shared_with_her_on_her_channels_without_its_text(
        services_under_test):
    [notify] = await services_under_test("notify")
    sophie = f"sophie.{uuid.uuid4().hex[:8]}@test.carnet.fr"
    phone = "+33612345678"
    shared = ExchangePostedV1(
        notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(), exchange_id=uuid.uuid4(),
        author_name="Pierre Chevalier", shared_with_beneficiary=True, beneficiary_email=sophie,
        beneficiary_phone=phone, beneficiary_channels=[Channel.email, Channel.sms])
    await notify.deliver(shared)
    await notify.deliver(shared)  # redelivered: told once

    [mail] = await mailbox(notify, sophie)
    assert mail.subject == "Un nouveau message dans votre carnet de bord"
    assert "nouveau message" in mail.text and "Pierre" not in mail.text
    [link] = mail.links
    assert link.endswith("/mon-carnet/echanges")
    [sms] = await mailbox(notify, phone)
    assert "nouveau message" in sms.text and sms.text.endswith("/mon-carnet/echanges")

    # Without a choice: by SMS when she has a mobile; a message not shared with her tells her nothing.
    other = f"other.{uuid.uuid4().hex[:8]}@test.carnet.fr"
    await notify.deliver(shared.model_copy(update={"event_id": uuid.uuid4(), "beneficiary_channels": [],
                                                   "beneficiary_phone": "", "beneficiary_email": other}))
    assert [m.subject for m in await mailbox(notify, other)] == ["Un nouveau message dans votre carnet de bord"]
    quiet = f"quiet.{uuid.uuid4().hex[:8]}@test.carnet.fr"
    await notify.deliver(shared.model_copy(update={"event_id": uuid.uuid4(), "shared_with_beneficiary": False,
                                                   "beneficiary_email": quiet}))
    assert await mailbox(notify, quiet) == []


async def test_her_answer_tells_the_author_and_not_herself(services_under_test):
    [notify] = await services_under_test("notify")
    pierre, sophie = f"pierre.{uuid.uuid4().hex[:8]}@test.carnet.fr", f"sophie.{uuid.uuid4().hex[:8]}@test.carnet.fr"
    answer = ExchangePostedV1(
        notebook_id=uuid.uuid4(), deployment_id=uuid.uuid4(), beneficiary_id=uuid.uuid4(), exchange_id=uuid.uuid4(),
        author_name="Sophie Tifour", shared_with_beneficiary=True, by_beneficiary=True, reply_to=uuid.uuid4(),
        recipients=[ExchangeRecipient(email=pierre, firstname="Pierre")], beneficiary_email=sophie)
    await notify.deliver(answer)
    [mail] = await mailbox(notify, pierre)
    assert mail.subject == "Une réponse de la personne accompagnée sur un carnet de bord"
    assert "Sophie Tifour a répondu" in mail.text
    assert mail.links[0].endswith(f"/carnets/{answer.notebook_id}/echanges#echange-{answer.exchange_id}")
    assert await mailbox(notify, sophie) == []
