"""Retention (issue 21): a beneficiary's notebook past its territory's retention — her account goes, with every row
keyed by it (sessions, links, codes, address changes, login audit), and her sessions are revoked everywhere first.
Then identity confirms to the notebook (``identity.retention.purged.v1``), which erases its own rows once every
service confirmed. Her values travel nowhere: the event carries ids, the account is found by its profile id."""
from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.retention import IdentityRetentionPurgedV1, RetentionDueV1
from identity.adapters.orm import Account, EmailChange, LoginAttempt, LoginLink, RefreshToken, SmsCode
from identity.domain.secrets import hash_secret
from identity.handlers.accounts import revoke_sessions
from identity.handlers.deps import Deps
from servicekit.inbox import exactly_once
from servicekit.retention import forget_published

CONSUMER = "identity-retention"


@exactly_once(CONSUMER)
async def on_retention_due(event: RetentionDueV1, session: AsyncSession, deps: Deps) -> None:
    account = (await session.execute(select(Account).where(
        Account.role == Role.beneficiary.value, Account.profile_id == event.beneficiary_id))).scalar_one_or_none()
    if account is not None:
        await revoke_sessions(session, deps, account.id)
        hashes = [hash_secret(account.email)] if account.email else []
        for table in (RefreshToken, LoginLink, SmsCode, EmailChange):
            await session.execute(delete(table).where(table.account_id == account.id))
        await session.execute(delete(LoginAttempt).where(or_(
            LoginAttempt.account_id == account.id, LoginAttempt.email_hash.in_(hashes))))
        await session.delete(account)
        # Its published events (account created, profile changed…) carry her address: they go too.
        await forget_published(session, [account.id, account.email, account.phone])
    await forget_published(session, [event.beneficiary_id])
    await deps.outbox.add(session, IdentityRetentionPurgedV1(notebook_id=event.notebook_id))
