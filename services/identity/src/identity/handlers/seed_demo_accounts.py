"""Demo accounts for ``make run``; refused outside dev mode."""
from __future__ import annotations

from sqlalchemy import select

from contracts.identity import AccountCreatedV1, SeedDemoAccountsReply, SeedDemoAccountsV1
from identity.adapters.orm import Account
from identity.domain.errors import DEV_ONLY, INVALID_EMAIL, Invalid, NotFound
from identity.domain.secrets import normalise_email
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext


async def seed_demo_accounts(request: SeedDemoAccountsV1, _ctx: RpcContext, deps: Deps) -> SeedDemoAccountsReply:
    if not deps.settings.dev_mode:
        raise NotFound(DEV_ONLY)
    created = existing = 0
    async with deps.sessions() as session, session.begin():
        for wanted in request.accounts:
            email = normalise_email(wanted.email)
            if email is None:
                raise Invalid(INVALID_EMAIL, details={"email": wanted.email})
            if await session.scalar(select(Account.id).where(Account.email == email)):
                existing += 1
                continue
            account = Account(email=email, role=wanted.role, deployment_id=wanted.deployment_id, created_at=deps.clock())
            session.add(account)
            await session.flush()
            await deps.outbox.add(
                session,
                AccountCreatedV1(account_id=account.id, email=email, role=account.role,
                                 deployment_id=account.deployment_id, profile_id=None),
            )
            created += 1
    return SeedDemoAccountsReply(created=created, existing=existing)
