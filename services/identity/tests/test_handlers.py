"""Identity's use cases through its broker in memory (FastStream's TestNatsBroker), on SQLite and PostgreSQL:
accounts follow the profiles delivered as events, login links are issued through the outbox, exchanged,
refreshed and ended; the access tokens are identity's own, verified with its keys."""
from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY

from contracts import identity as c
from contracts.base import ErrorCode
from contracts.profiles import (
    BeneficiaryCreatedV1,
    BeneficiaryUpdatedV1,
    DeploymentCreatedV1,
    ManagerCreatedV1,
    ProfessionalCreatedV1,
    ProfessionalDeactivatedV1,
)
from identity.adapters.orm import Account
from identity.handlers.profile_events import accounts_wanted, contact_of
from servicekit.errors import RejectMessage
from sqlalchemy import select
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration


@pytest.fixture
async def identity(service_under_test) -> InMemoryService:
    return await service_under_test("identity")


async def new_professional(identity: InMemoryService) -> ProfessionalCreatedV1:
    profile = ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=uuid.uuid4(), firstname="Pierre",
                                    lastname="Chevalier", email=f"pierre.{uuid.uuid4().hex[:8]}@test.carnet.fr",
                                    structure_ids=[uuid.uuid4()], created_by_name="Marie Gérante")
    await identity.deliver(profile)
    return profile


async def login_link(identity: InMemoryService, email: str) -> str:
    """Asks for a link as the gateway does; the token is in the event notify reads on the ``SECRETS`` stream."""
    assert (await identity.call(c.RequestLoginLinkV1(email=email.upper()))).accepted
    links = [e for e in await identity.events(c.LoginLinkIssuedV1.subject) if e.purpose == c.LinkPurpose.login]
    return links[-1].token


async def test_a_new_professional_gets_one_account_and_one_invitation_however_often_delivered(identity):
    profile = await new_professional(identity)
    await identity.deliver(profile)  # redelivered: JetStream delivers at least once

    [invitation] = await identity.events(c.LoginLinkIssuedV1.subject)
    assert (invitation.email, invitation.purpose, invitation.invited_by) == (
        profile.email, c.LinkPurpose.invitation, "Marie Gérante")
    pair = await identity.call(c.ExchangeLoginLinkV1(token=invitation.token))
    me = await identity.call(c.GetMeV1(), pair.access_token)
    assert (me.profile_id, me.role) == (profile.profile_id, c.Role.professional)
    assert me.structure_ids == profile.structure_ids
    assert me.pending_steps == [c.PendingStep.cgu, c.PendingStep.onboarding]


async def test_a_login_link_is_issued_through_the_outbox_and_serves_once(identity):
    profile = await new_professional(identity)
    before = len(await identity.events(c.LoginLinkIssuedV1.subject))

    # The same answer for an unknown address, and no link.
    assert (await identity.call(c.RequestLoginLinkV1(email="inconnu@test.carnet.fr"))).accepted
    assert len(await identity.events(c.LoginLinkIssuedV1.subject)) == before
    token = await login_link(identity, profile.email)

    pair = await identity.call(c.ExchangeLoginLinkV1(token=token))
    assert pair.token_type == "Bearer" and pair.expires_in == 15 * 60
    assert (await identity.call(c.GetMeV1(), pair.access_token)).email == profile.email
    assert (await refused(identity.call(c.ExchangeLoginLinkV1(token=token)))).code == ErrorCode.unauthenticated
    assert (await refused(identity.call(c.RequestLoginLinkV1(email="pas-une-adresse")))).code == ErrorCode.invalid


async def test_a_session_is_refreshed_then_ended_by_logout_which_every_service_hears_of(identity):
    profile = await new_professional(identity)
    first = await identity.call(c.ExchangeLoginLinkV1(token=await login_link(identity, profile.email)))

    second = await identity.call(c.RefreshSessionV1(refresh_token=first.refresh_token))
    assert second.refresh_token != first.refresh_token
    assert (await identity.call(c.GetMeV1(), second.access_token)).profile_id == profile.profile_id
    assert (await identity.call(c.LogoutV1(refresh_token=second.refresh_token))).accepted

    [revoked] = await identity.events(c.SessionsRevokedV1.subject)
    assert revoked.session_id is not None
    for call in (identity.call(c.RefreshSessionV1(refresh_token=second.refresh_token)),
                 identity.call(c.GetMeV1(), second.access_token)):
        assert (await refused(call)).code == ErrorCode.unauthenticated


async def test_a_refresh_token_presented_twice_revokes_its_session(identity):
    profile = await new_professional(identity)
    first = await identity.call(c.ExchangeLoginLinkV1(token=await login_link(identity, profile.email)))
    second = await identity.call(c.RefreshSessionV1(refresh_token=first.refresh_token))

    replay = await refused(identity.call(c.RefreshSessionV1(refresh_token=first.refresh_token)))
    assert replay.code == ErrorCode.unauthenticated
    [revoked] = await identity.events(c.SessionsRevokedV1.subject)
    assert revoked.session_id is not None
    assert (await refused(identity.call(c.RefreshSessionV1(refresh_token=second.refresh_token)))).code == \
        ErrorCode.unauthenticated


async def test_a_deactivated_profile_closes_its_account_once_however_often_delivered(identity):
    profile = await new_professional(identity)
    pair = await identity.call(c.ExchangeLoginLinkV1(token=await login_link(identity, profile.email)))
    deactivated = ProfessionalDeactivatedV1(profile_id=profile.profile_id, deployment_id=profile.deployment_id)

    await identity.deliver(deactivated)
    await identity.deliver(deactivated)

    [closed] = await identity.events(c.AccountDeactivatedV1.subject)
    [revoked] = await identity.events(c.SessionsRevokedV1.subject)
    assert closed.profile_id == profile.profile_id and revoked.account_id == closed.account_id
    assert revoked.session_id is None  # every session of the account
    assert (await refused(identity.call(c.GetMeV1(), pair.access_token))).code == ErrorCode.unauthenticated
    links = len(await identity.events(c.LoginLinkIssuedV1.subject))
    assert (await identity.call(c.RequestLoginLinkV1(email=profile.email))).accepted
    assert len(await identity.events(c.LoginLinkIssuedV1.subject)) == links


async def test_a_profile_whose_email_is_another_role_s_account_is_dead_lettered_without_effect(identity):
    profile = await new_professional(identity)
    durable = "identity-directory-manager-created"

    def dead_letters() -> float:
        return REGISTRY.get_sample_value("carnet_events_dead_lettered_total", {"consumer": durable}) or 0

    before = dead_letters()
    await identity.deliver(ManagerCreatedV1(profile_id=uuid.uuid4(), deployment_id=profile.deployment_id,
                                            email=profile.email, firstname="Homonyme"))

    assert dead_letters() == before + 1  # terminated at once: JetStream's advisory puts it in DEADLETTER
    [invitation] = await identity.events(c.LoginLinkIssuedV1.subject)  # the professional's only
    pair = await identity.call(c.ExchangeLoginLinkV1(token=invitation.token))
    me = await identity.call(c.GetMeV1(), pair.access_token)
    assert (me.role, me.profile_id) == (c.Role.professional, profile.profile_id)


async def accounts_of(identity: InMemoryService, *profile_ids: uuid.UUID) -> list[Account]:
    async with identity.sessions() as session:
        found = (await session.scalars(select(Account).where(Account.profile_id.in_(profile_ids)))).all()
    return sorted(found, key=lambda account: profile_ids.index(account.profile_id))


async def test_beneficiaries_sharing_a_phone_or_taking_an_email_keep_one_login_each(identity):
    """The profile's account, the email's holder and the phone's holder are looked up together (one query per
    event): a couple on one mobile keeps SMS login with the first, an email already held is refused."""
    deployment = uuid.uuid4()
    phone, suffix = f"0612{uuid.uuid4().int % 10**6:06d}", uuid.uuid4().hex[:8]
    first, second = (BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment, phone=phone,
                                          email=f"{name}.{suffix}@test.carnet.fr", firstname=name)
                     for name in ("alice", "bob"))
    await identity.deliver(first)
    await identity.deliver(second)
    alice, bob = await accounts_of(identity, first.profile_id, second.profile_id)
    assert alice.phone == f"+33{phone[1:]}" and bob.phone is None
    assert (alice.email, bob.email) == (first.email, second.email)

    # Bob's profile now gives Alice's email: refused, nothing changes; then his own number: it is his.
    await identity.deliver(BeneficiaryUpdatedV1(profile_id=second.profile_id, deployment_id=deployment,
                                                email=first.email, firstname="bob"))
    own = f"0612{uuid.uuid4().int % 10**6:06d}"
    await identity.deliver(BeneficiaryUpdatedV1(profile_id=second.profile_id, deployment_id=deployment,
                                                email=second.email, phone=own, firstname="bob"))
    alice, bob = await accounts_of(identity, first.profile_id, second.profile_id)
    assert (alice.email, alice.phone) == (first.email, f"+33{phone[1:]}")
    assert (bob.email, bob.phone) == (second.email, f"+33{own[1:]}")


async def test_a_batch_of_profile_events_has_the_effects_of_the_same_events_one_by_one(identity):
    """An import's events come in batches (one transaction, accounts read once for the batch): a couple on one
    mobile, a beneficiary without contact, a redelivered batch; a professional's email refuses the whole batch (the
    consumer then hands its events over one by one)."""
    [created] = [s for s in identity.service.bus.subscriptions if s.durable == "identity-notebook-beneficiary-created"]
    deployment, phone, suffix = uuid.uuid4(), f"0612{uuid.uuid4().int % 10**6:06d}", uuid.uuid4().hex[:8]
    alice, bob = (BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment, phone=phone,
                                       email=f"{name}.{suffix}@test.carnet.fr", firstname=name)
                  for name in ("alice", "bob"))
    silent = BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment, firstname="dora")
    await created.together([alice, bob, silent])
    await created.together([alice, bob, silent])  # redelivered: nothing more
    accounts = await accounts_of(identity, alice.profile_id, bob.profile_id, silent.profile_id)
    assert [(a.email, a.phone) for a in accounts] == [(alice.email, f"+33{phone[1:]}"), (bob.email, None)]

    professional = await new_professional(identity)
    carol = BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment, email=professional.email)
    eve = BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment, email=f"eve.{suffix}@test.carnet.fr")
    with pytest.raises(RejectMessage):
        await created.together([eve, carol])
    assert await accounts_of(identity, eve.profile_id, carol.profile_id) == []  # undone together


async def test_a_batch_finds_the_accounts_its_earlier_events_changed(identity):
    """Within a batch, an event sees what the events before it did: an email given up by one beneficiary is
    free for the next, and a second event of the same profile updates the account the first created."""
    [created] = [s for s in identity.service.bus.subscriptions if s.durable == "identity-notebook-beneficiary-created"]
    deployment, suffix = uuid.uuid4(), uuid.uuid4().hex[:8]
    first, second = f"alice.{suffix}@test.carnet.fr", f"alice2.{suffix}@test.carnet.fr"
    alice = BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment, email=first, firstname="alice")
    moved = BeneficiaryCreatedV1(profile_id=alice.profile_id, deployment_id=deployment, email=second,
                                 firstname="alice")
    dora = BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment, email=first, firstname="dora")
    await created.together([alice, moved, dora])
    accounts = await accounts_of(identity, alice.profile_id, dora.profile_id)
    assert [(a.firstname, a.email) for a in accounts] == [("alice", second), ("dora", first)]


async def test_accounts_a_batch_creates_are_those_events_one_by_one_create(identity):
    """A batch's new beneficiaries' accounts are written together (one INSERT, not an ORM object each): every
    column as an event alone writes it, the columns left unset with their defaults; they sign in by SMS alike."""
    [created] = [s for s in identity.service.bus.subscriptions if s.durable == "identity-notebook-beneficiary-created"]
    deployment, suffix = uuid.uuid4(), uuid.uuid4().hex[:8]
    alone, together, updated = (BeneficiaryCreatedV1(
        profile_id=uuid.uuid4(), deployment_id=deployment, email=f"{name}.{suffix}@test.carnet.fr",
        # 061…: always a metropolitan mobile; a random 06… may fall in an overseas range that is no number (0694 56…)
        phone=f"061{uuid.uuid4().int % 10**7:07d}", firstname=name, lastname="Martin")
        for name in ("alone", "together", "updated"))
    await identity.deliver(alone)
    again = BeneficiaryCreatedV1(profile_id=updated.profile_id, deployment_id=deployment, email=updated.email,
                                 phone=updated.phone, firstname="Renamed", lastname="Martin")
    await created.together([together, updated, again])
    one, many, renamed = await accounts_of(identity, alone.profile_id, together.profile_id, updated.profile_id)
    skipped = {"id", "email", "phone", "profile_id", "firstname", "created_at", "updated_at", "profile_synced_at"}
    columns = [c.key for c in Account.__table__.columns if c.key not in skipped]
    assert {k: getattr(many, k) for k in columns} == {k: getattr(one, k) for k in columns}
    assert (many.email, many.phone, many.firstname) == (together.email, f"+33{together.phone[1:]}", "together")
    assert (renamed.firstname, renamed.status) == ("Renamed", "active")  # the batch's last state of it
    assert many.profile_synced_at == together.occurred_at


async def test_a_batch_finds_its_accounts_through_indexes(identity):
    """The batch's lookup (profiles, emails, beneficiaries' phones) can be answered from indexes alone: on
    PostgreSQL even in its generic plan (a prepared statement's after five runs), scans of the table forbidden
    where there is another way. A branch without an index made every batch of an import read every account."""
    deployment = uuid.uuid4()
    events = [BeneficiaryCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment, phone=f"0612{n:06d}",
                                   email=f"b{n}.{uuid.uuid4().hex[:6]}@test.carnet.fr") for n in range(20)]
    [created] = [s for s in identity.service.bus.subscriptions if s.durable == "identity-notebook-beneficiary-created"]
    await created.together(events)
    batch = events[:3]
    async with identity.service.sessions() as session:
        sqlite = session.bind.dialect.name == "sqlite"
        query = accounts_wanted(batch, [contact_of(event) for event in batch], sqlite)
        assert len((await session.scalars(query)).all()) == 3
        connection = await session.connection()
        if sqlite:
            plan = " ".join(str(row) for row in await connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + str(query.compile(connection, compile_kwargs={"literal_binds": True}))))
        else:
            compiled = query.compile(connection)
            driver = (await connection.get_raw_connection()).driver_connection
            params = [compiled.params[name] for name in compiled.positiontup]
            await driver.execute(f"SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; "
                                 f"PREPARE wanted AS {compiled}")
            # EXECUTE takes literals only: arrays of UUIDs, roles, emails and phones (no comma, quote or brace).
            arguments = ", ".join("'{%s}'" % ",".join(map(str, values)) for values in params)
            plan = " ".join(row[0] for row in await driver.fetch(f"EXPLAIN EXECUTE wanted({arguments})"))
            await driver.execute("DEALLOCATE wanted; RESET plan_cache_mode; RESET enable_seqscan")
    assert "Seq Scan" not in plan and "SCAN account" not in plan, plan


async def test_a_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(identity):
    """The form is checked before the address is looked up: a bad form refused only for unknown addresses told
    anyone which addresses have an account (« the same answer whether or not the email exists »)."""
    deployment_id = uuid.uuid4()
    await identity.deliver(DeploymentCreatedV1(deployment_id=deployment_id, label="Drôme", department_code="26"))
    known = await new_professional(identity)
    for email in (known.email, f"personne.{uuid.uuid4().hex[:8]}@test.carnet.fr"):
        bad = await refused(identity.call(c.RequestSignupV1(
            email=email, deployment_id=deployment_id, structure_name="CCAS",
            profile=c.ProfileFields(firstname="", lastname="Anonyme"))))
        assert bad.code == ErrorCode.invalid, email
        accepted = await identity.call(c.RequestSignupV1(
            email=email, deployment_id=deployment_id, structure_name="CCAS",
            profile=c.ProfileFields(firstname="Anne", lastname="Onyme")))
        assert accepted.accepted


async def test_a_profile_created_by_an_administrator_supersedes_a_sign_up_nobody_confirmed(identity):
    """Anyone may file a sign-up for any address: an unconfirmed one must not block the manager's account an
    administrator creates later for it (another role), nor keep it pending and uninvited."""
    deployment_id = uuid.uuid4()
    await identity.deliver(DeploymentCreatedV1(deployment_id=deployment_id, label="Drôme", department_code="26"))
    email = f"future.manager.{uuid.uuid4().hex[:8]}@test.carnet.fr"
    await identity.call(c.RequestSignupV1(email=email, deployment_id=deployment_id, structure_name="Squat",
                                          profile=c.ProfileFields(firstname="Faux", lastname="Compte")))
    manager = ManagerCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment_id, firstname="Marie",
                               lastname="Gérante", email=email, created_by_name="Admin CdB")
    await identity.deliver(manager)

    async with identity.sessions() as session:
        [account] = (await session.execute(select(Account).where(Account.email == email))).scalars().all()
    assert (account.role, account.status, account.profile_id, account.requested_structure) == (
        c.Role.manager, c.AccountStatus.active, manager.profile_id, "")
    assert (account.firstname, account.lastname) == ("Marie", "Gérante")
    [invitation] = [e for e in await identity.events(c.LoginLinkIssuedV1.subject) if e.email == email]
    assert invitation.purpose == c.LinkPurpose.invitation


async def test_an_email_change_says_nothing_of_other_accounts_and_is_rate_limited(identity):
    """Any signed-in account could ask for any address: a refusal for addresses already taken told which have an
    account, and nothing limited the links mailed to addresses of the caller's choosing."""
    me, other = await new_professional(identity), await new_professional(identity)
    token = (await identity.call(c.ExchangeLoginLinkV1(token=await login_link(identity, me.email)))).access_token
    cgu = (await identity.call(c.GetLoginOptionsV1())).cgu_version
    token = (await identity.call(c.AcceptCguV1(version=cgu), token)).access_token
    token = (await identity.call(c.CompleteOnboardingV1(profile=c.ProfileFields(firstname="Pierre",
                                                                                 lastname="Chevalier")), token)).access_token
    links = len(await identity.events(c.LoginLinkIssuedV1.subject))

    taken = await identity.call(c.RequestEmailChangeV1(new_email=other.email), token)
    assert taken.accepted and len(await identity.events(c.LoginLinkIssuedV1.subject)) == links  # nothing sent
    for index in range(5):  # max_link_requests_per_email a window
        await identity.call(c.RequestEmailChangeV1(new_email=f"nouvelle.{index}@test.carnet.fr"), token)
    too_many = await refused(identity.call(c.RequestEmailChangeV1(new_email="encore@test.carnet.fr"), token))
    assert too_many.code == ErrorCode.rate_limited
