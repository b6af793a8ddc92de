"""Demo accounts and territories for ``make run``; refused outside dev mode."""
from __future__ import annotations

from sqlalchemy import select

from contracts.identity import AccountCreatedV1, SeedDemoAccountsReply, SeedDemoAccountsV1
from identity.adapters.orm import Account, Deployment
from identity.domain.errors import DEV_ONLY, INVALID_EMAIL, INVALID_PHONE, Invalid, NotFound
from identity.domain.secrets import normalise_email, normalise_phone
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext


async def seed_demo_accounts(request: SeedDemoAccountsV1, _ctx: RpcContext, deps: Deps) -> SeedDemoAccountsReply:
    if not deps.settings.dev_mode:
        raise NotFound(DEV_ONLY)
    created = existing = 0
    async with deps.sessions() as session, session.begin():
        for choice in request.deployments:
            if await session.get(Deployment, choice.deployment_id) is None:
                session.add(Deployment(id=choice.deployment_id, label=choice.label,
                                       department_code=choice.department_code))
        for wanted in request.accounts:
            email = normalise_email(wanted.email)
            if email is None:
                raise Invalid(INVALID_EMAIL, details={"email": wanted.email})
            phone = normalise_phone(wanted.phone) if wanted.phone else None
            if wanted.phone and phone is None:
                raise Invalid(INVALID_PHONE, details={"phone": wanted.phone})
            if await session.scalar(select(Account.id).where(Account.email == email)):
                existing += 1
                continue
            account = Account(email=email, phone=phone, role=wanted.role, deployment_id=wanted.deployment_id,
                              firstname=wanted.firstname, lastname=wanted.lastname,
                              structure_ids=[str(s) for s in wanted.structure_ids], created_at=deps.clock())
            session.add(account)
            await session.flush()
            await deps.outbox.add(
                session,
                AccountCreatedV1(account_id=account.id, email=email, role=account.role,
                                 deployment_id=account.deployment_id, profile_id=None),
            )
            created += 1
    return SeedDemoAccountsReply(created=created, existing=existing)
