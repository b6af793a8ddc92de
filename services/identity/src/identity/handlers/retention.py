"""Retention (issue 21): a beneficiary's notebook past its territory's retention — her account goes, with every row
keyed by it (sessions, links, codes, address changes, login audit), and her sessions are revoked everywhere first;
then the published events that carry her address, in the outbox and on the stream IDENTITY. Identity confirms to the
notebook (``identity.retention.purged.v1``), which erases its own rows once every service confirmed. Her profile id is
kept (``purged_profile``): a profile event about her arriving late opens no account again. Her values
travel nowhere: the event carries ids, the account is found by its profile id."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import Role
from contracts.retention import IdentityRetentionPurgedV1, RetentionDueV1
from identity.adapters.orm import Account, EmailChange, LoginAttempt, LoginLink, RefreshToken, SmsCode
from identity.adapters.retention_orm import PurgedProfile
from identity.domain.secrets import hash_secret
from identity.handlers.accounts import revoke_sessions
from identity.handlers.deps import Deps
from servicekit import inbox
from servicekit.retention import SWEPT_STREAMS, forget_in_streams, forget_published

CONSUMER = "identity-retention"


def her_account(beneficiary_id):
    return select(Account).where(Account.role == Role.beneficiary.value, Account.profile_id == beneficiary_id)


async def on_retention_due(event: RetentionDueV1, _meta, deps: Deps, streams: Callable[[], Any] | None = None) -> None:
    async with deps.sessions() as session:
        account = (await session.execute(her_account(event.beneficiary_id))).scalar_one_or_none()
        known = [event.beneficiary_id, *((account.id, account.email, account.phone) if account else ())]

    async def erase(session: AsyncSession) -> None:
        await erase_account(session, deps, event)
        await deps.outbox.add(session, IdentityRetentionPurgedV1(notebook_id=event.notebook_id))

    await inbox.apply_once(deps.sessions, CONSUMER, event.event_id, erase)
    if streams is not None:  # after the commit, and again on a redelivery: deleting twice does no harm
        await forget_in_streams(streams(), SWEPT_STREAMS["identity"], known)


async def erase_account(session: AsyncSession, deps: Deps, event: RetentionDueV1) -> None:
    if await session.get(PurgedProfile, event.beneficiary_id) is None:
        session.add(PurgedProfile(profile_id=event.beneficiary_id, purged_at=deps.clock()))
    account = (await session.execute(her_account(event.beneficiary_id))).scalar_one_or_none()
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
