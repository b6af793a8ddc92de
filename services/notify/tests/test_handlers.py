"""Notify's use cases through its broker in memory (FastStream's TestNatsBroker), on SQLite and PostgreSQL, with
identity in memory beside it: what identity writes in its outbox is delivered to notify's consumers as the relay
would, and notify asks identity (RPC) who the caller is and for its keys (JWKS)."""
from __future__ import annotations

import uuid

import pytest

from contracts.base import ErrorCode
from contracts.identity import LinkPurpose, LoginLinkIssuedV1
from contracts.notebook import MemberAddedV1, MemberType
from contracts.notify import (
    GetMyNotificationPreferencesV1,
    NotificationFrequency,
    ReadDevMailboxV1,
    SetMyNotificationPreferencesV1,
)
from contracts.profiles import ProfessionalCreatedV1
from testkit.handlers import InMemoryService, refused, signed_in

pytestmark = pytest.mark.integration


def professional() -> ProfessionalCreatedV1:
    return ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=uuid.uuid4(), firstname="Pierre",
                                 lastname="Chevalier", email=f"pierre.{uuid.uuid4().hex[:8]}@test.carnet.fr",
                                 structure_ids=[uuid.uuid4()])


async def mailbox(notify: InMemoryService, to: str) -> list:
    return (await notify.call(ReadDevMailboxV1(to=to.upper()))).messages


async def test_a_login_link_issued_by_identity_lands_once_in_the_dev_mailbox(services_under_test):
    notify, identity = await services_under_test("notify", "identity")
    profile = professional()
    await identity.deliver(profile)
    [invitation] = await identity.events(LoginLinkIssuedV1.subject)
    assert invitation.purpose == LinkPurpose.invitation

    await notify.deliver(invitation)
    await notify.deliver(invitation)  # redelivered: JetStream delivers at least once

    [message] = await mailbox(notify, profile.email)
    assert message.to == profile.email and message.links[0].endswith(f"/auth/magic/{invitation.token}")
    assert message.sent_at is None  # queued: the sender, not running here, delivers it
    assert await mailbox(notify, "personne@test.carnet.fr") == []


async def test_a_professional_chooses_one_daily_email_then_gets_what_was_held_at_once(services_under_test):
    notify, identity = await services_under_test("notify", "identity")
    profile = professional()
    token = await signed_in(identity, profile)
    invited = MemberAddedV1(notebook_id=uuid.uuid4(), deployment_id=profile.deployment_id,
                            beneficiary_id=uuid.uuid4(), person_id=profile.profile_id,
                            member_type=MemberType.no_referent, invited_by_id=uuid.uuid4(),
                            invited_by_name="Simon Anka", person_email=profile.email, person_firstname="Pierre")

    ask = GetMyNotificationPreferencesV1()
    assert (await notify.call(ask, token)).frequency == NotificationFrequency.immediate
    daily = await notify.call(SetMyNotificationPreferencesV1(frequency=NotificationFrequency.daily), token)
    assert daily.frequency == (await notify.call(ask, token)).frequency == NotificationFrequency.daily
    await notify.deliver(invited)
    assert [m.subject for m in await mailbox(notify, profile.email)] == []  # held for the digest

    await notify.call(SetMyNotificationPreferencesV1(frequency=NotificationFrequency.immediate), token)
    [message] = await mailbox(notify, profile.email)
    assert "Simon Anka" in message.text and message.links[0].endswith(f"/carnets/{invited.notebook_id}")


async def test_preferences_are_refused_without_a_valid_token(services_under_test, token_mint):
    notify, _identity = await services_under_test("notify", "identity")
    not_identity_s = token_mint.token("professional", deployment_id=uuid.uuid4(), profile_id=uuid.uuid4())
    for token in (None, "not-a-token", not_identity_s):
        refusal = await refused(notify.call(GetMyNotificationPreferencesV1(), token))
        assert refusal.code == ErrorCode.unauthenticated


async def test_the_dev_mailbox_is_not_found_outside_dev_mode(service_under_test):
    notify = await service_under_test("notify", env="test")
    assert (await refused(notify.call(ReadDevMailboxV1()))).code == ErrorCode.not_found
