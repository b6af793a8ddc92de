"""``carnet admin create``'s use case (CreateAdministratorV1), in memory on SQLite and PostgreSQL: a new installation's
first national administrator is created in any mode and invited by email; asked again, only a new invitation; an
address of another role's account is refused and that account left as it was."""
from __future__ import annotations

import pytest

from contracts import identity as c
from contracts.audit import IdentityAuditRecordedV1
from contracts.base import ErrorCode
from identity.handlers.create_administrator import INVITED_BY
from testkit.handlers import InMemoryService, refused

pytestmark = pytest.mark.integration


@pytest.fixture
async def identity(service_under_test) -> InMemoryService:
    return await service_under_test("identity")


async def test_the_first_administrator_is_invited_and_signs_in_as_admin_cdb_then_is_only_invited_again(
        service_under_test):
    # A real installation: the demo seed is refused there, this is not.
    identity = await service_under_test("identity", CARNET_ENV="prod", CARNET_PUBLIC_URL="https://carnet.dept.fr",
                                        secret_key="clé de production de ce test")
    assert (await refused(identity.call(c.SeedDemoAccountsV1(accounts=[])))).code == ErrorCode.not_found
    request = c.CreateAdministratorV1(email="  Claire.Admin@Dept.fr ", firstname="Claire", lastname="Martin")

    first = await identity.call(request)
    again = await identity.call(request)

    assert (first.created, again.created, again.account_id) == (True, False, first.account_id)
    [created] = await identity.events(c.AccountCreatedV1.subject)
    assert (created.email, created.role, created.deployment_id) == ("claire.admin@dept.fr", c.Role.admin_cdb, None)
    invitations = await identity.events(c.LoginLinkIssuedV1.subject)
    assert [(i.purpose, i.invited_by, i.firstname) for i in invitations] == [
        (c.LinkPurpose.invitation, INVITED_BY, "Claire")] * 2
    pair = await identity.call(c.ExchangeLoginLinkV1(token=invitations[-1].token))
    me = await identity.call(c.GetMeV1(), pair.access_token)
    assert (me.email, me.role, me.deployment_id) == ("claire.admin@dept.fr", c.Role.admin_cdb, None)
    audit = [e.action for e in await identity.events(IdentityAuditRecordedV1.subject)
             if e.target_id == str(first.account_id) and e.actor_role == "operator"]
    assert audit == ["account.administrator_created", "account.resend_invitation"]


async def test_an_address_of_another_role_or_no_address_is_refused_and_changes_nothing(identity):
    professional = await identity.call(c.SeedDemoAccountsV1(accounts=[c.DemoAccount(
        email="pierre@structure.fr", role=c.Role.professional, firstname="Pierre", lastname="Chevalier")]))
    assert professional.created == 1

    taken = await refused(identity.call(c.CreateAdministratorV1(email="pierre@structure.fr", firstname="P",
                                                                lastname="C")))
    invalid = await refused(identity.call(c.CreateAdministratorV1(email="pas-une-adresse", firstname="P",
                                                                  lastname="C")))

    assert (taken.code, invalid.code) == (ErrorCode.conflict, ErrorCode.invalid)
    assert "n'est pas administrateur" in taken.message
    assert [e.role for e in await identity.events(c.AccountCreatedV1.subject)] == [c.Role.professional]
    assert await identity.events(c.LoginLinkIssuedV1.subject) == []
