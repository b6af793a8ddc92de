"""Identity's lines of the audit trail (issue 21 item 3), on SQLite and PostgreSQL: a login by link (and a link used
twice, refused), a logout, an account deactivated and reactivated by an administrator, and every partner call
(accepted or refused) are each one ``identity.audit.recorded.v1`` in identity's outbox, with ids and codes only —
never an email."""
from __future__ import annotations

import uuid

import pytest

from contracts import identity as c
from contracts import partners as p
from contracts.audit import IdentityAuditRecordedV1
from contracts.profiles import ProfessionalCreatedV1
from identity.adapters.orm import Account, Deployment
from identity.handlers.deps import Deps
from identity.handlers.issue_session import access_token_for
from servicekit.db import utcnow
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration


@pytest.fixture
async def identity(service_under_test) -> InMemoryService:
    return await service_under_test("identity")


async def lines(identity: InMemoryService) -> list[IdentityAuditRecordedV1]:
    return await identity.events(IdentityAuditRecordedV1.subject)


async def admin_token(identity: InMemoryService) -> tuple[Account, str]:
    service = identity.service
    async with identity.sessions.begin() as session:
        admin = Account(email=f"admin-{uuid.uuid4().hex[:8]}@test.carnet.fr", role=c.Role.admin_cdb,
                        cgu_version=service.settings.cgu_version, created_at=utcnow(), onboarded_at=utcnow())
        session.add(admin)
    deps = Deps(sessions=service.sessions, outbox=service.outbox, settings=service.settings, verifier=service.verifier)
    async with identity.sessions.begin() as session:
        return admin, await access_token_for(session, deps, admin, uuid.uuid4())


async def test_a_login_a_logout_and_account_actions_are_lines_of_ids_only(identity):
    deployment_id = uuid.uuid4()
    profile = ProfessionalCreatedV1(profile_id=uuid.uuid4(), deployment_id=deployment_id, firstname="Pierre",
                                    lastname="Chevalier", email=f"pierre.{uuid.uuid4().hex[:8]}@test.carnet.fr",
                                    structure_ids=[uuid.uuid4()], created_by_name="Marie Gérante")
    await identity.deliver(profile)
    [invitation] = await identity.events(c.LoginLinkIssuedV1.subject)
    pair = await identity.call(c.ExchangeLoginLinkV1(token=invitation.token))
    assert (await refused(identity.call(c.ExchangeLoginLinkV1(token=invitation.token)))).code  # used already
    assert (await identity.call(c.LogoutV1(refresh_token=pair.refresh_token))).accepted
    me = await identity.call(c.GetMeV1(), (await identity.call(c.ExchangeLoginLinkV1(token=(
        await login_link(identity, profile.email))))).access_token)
    admin, token = await admin_token(identity)
    for action in (c.AccountAction.deactivate, c.AccountAction.reactivate):
        await identity.call(c.ChangeAccountV1(account_id=me.account_id, action=action), token)

    written = [(line.action, line.actor_account_id, line.target_type, line.target_id, line.deployment_id)
               for line in await lines(identity)]
    hers = (me.account_id, "account", str(me.account_id), deployment_id)
    assert written == [("account.link_used", *hers), ("account.link_refused", *hers), ("account.logout", *hers),
                       ("account.link_used", *hers), ("account.deactivate", admin.id, *hers[1:]),
                       ("account.reactivate", admin.id, *hers[1:])]
    assert [line.details.get("success") for line in (await lines(identity))[:2]] == ["oui", "non"]
    assert all(profile.email not in line.model_dump_json() for line in await lines(identity))


async def login_link(identity: InMemoryService, email: str) -> str:
    assert (await identity.call(c.RequestLoginLinkV1(email=email))).accepted
    return [e for e in await identity.events(c.LoginLinkIssuedV1.subject) if e.purpose == c.LinkPurpose.login][-1].token


async def test_every_partner_call_accepted_or_refused_is_a_line(identity):
    admin, token = await admin_token(identity)
    deployment_id = uuid.uuid4()
    async with identity.sessions.begin() as session:
        session.add(Deployment(id=deployment_id, label="Territoire", department_code="93"))
        manager = Account(email=f"gestion-{uuid.uuid4().hex[:6]}@cd93.fr", role=c.Role.manager,
                          deployment_id=deployment_id, profile_id=uuid.uuid4(),
                          cgu_version=identity.service.settings.cgu_version, created_at=utcnow(),
                          onboarded_at=utcnow())
        session.add(manager)
    created = await identity.call(p.CreatePartnerCredentialV1(partner="rdvi", deployment_ids=[deployment_id]), token)

    def call(secret: str) -> p.AuthenticatePartnerV1:
        return p.AuthenticatePartnerV1(partner="rdvi", client_id=created.credential.client_id, secret=secret,
                                       route="POST /api/v1/partners/rdvi/notebooks", deployment_id=deployment_id,
                                       manager_email=manager.email)
    accepted = await identity.call(call(created.secret))
    await refused(identity.call(call(created.secret + "x")))

    calls = [line for line in await lines(identity) if line.action == "partner.call"]
    assert [(line.actor_role, line.target_type, line.deployment_id, line.details["result"]) for line in calls] == [
        ("partner", "partner_call", deployment_id, "pending"), ("partner", "partner_call", deployment_id, "refused")]
    assert calls[0].target_id == str(accepted.call_id) and calls[0].actor_account_id == manager.id
    assert calls[1].actor_account_id is None and calls[1].details["client_id"] == created.credential.client_id
    assert all(created.secret not in line.model_dump_json() and manager.email not in line.model_dump_json()
               for line in calls)
