"""The first national administrator of an installation (and any later one), created by the operator's command.

Nothing else creates an admin_cdb account outside the demo seed: the sites' forms create territories' people only.
The new administrator receives an invitation by email and signs in with it, as any invited account does."""
from __future__ import annotations

from sqlalchemy import select

from contracts.identity import AccountCreatedV1, AdministratorReply, CreateAdministratorV1, LinkPurpose, Role
from identity.adapters import audit_trail
from identity.adapters.orm import Account
from identity.domain.errors import ADMINISTRATOR_EMAIL_TAKEN, INVALID_EMAIL, Conflict, Invalid
from identity.domain.secrets import normalise_email
from identity.handlers.deps import Deps
from identity.handlers.request_login_link import issue_link
from servicekit.rpc import RpcContext

INVITED_BY = "L'équipe qui exploite Carnet de bord"
OPERATOR_ROLE = "operator"  # the audit trail's actor: the command, not an account


async def create_administrator(request: CreateAdministratorV1, _ctx: RpcContext, deps: Deps) -> AdministratorReply:
    email = normalise_email(request.email)
    if email is None:
        raise Invalid(INVALID_EMAIL, details={"email": request.email})
    async with deps.sessions() as session, session.begin():
        account = await session.scalar(select(Account).where(Account.email == email))
        created = account is None
        if account is not None and account.role != Role.admin_cdb:
            raise Conflict(ADMINISTRATOR_EMAIL_TAKEN)
        if account is None:
            account = Account(email=email, role=Role.admin_cdb, firstname=request.firstname.strip(),
                              lastname=request.lastname.strip(), created_at=deps.clock())
            session.add(account)
            await session.flush()
            await deps.outbox.add(session, AccountCreatedV1(account_id=account.id, email=email, role=account.role,
                                                            deployment_id=None, profile_id=None))
        # Asked again (the first invitation expired, was lost): a new one, nothing else changes.
        await issue_link(session, deps, account, LinkPurpose.invitation, INVITED_BY)
        await deps.outbox.add(session, audit_trail.line(
            "account.administrator_created" if created else "account.resend_invitation", account,
            actor_role=OPERATOR_ROLE))
        return AdministratorReply(account_id=account.id, created=created)
