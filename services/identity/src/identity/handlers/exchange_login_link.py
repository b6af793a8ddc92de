"""Turns a login link into a session; a link serves once, within its lifetime."""
from __future__ import annotations

from sqlalchemy import select, update

from contracts.identity import AccountStatus, ExchangeLoginLinkV1, TokenPairReply
from identity.adapters.orm import Account, LoginLink
from identity.domain.errors import ACCOUNT_DEACTIVATED, LINK_NOT_VALID, Unauthenticated
from identity.domain.secrets import hash_secret
from identity.domain.sessions import OneTimeSecretState, Verdict, judge
from identity.handlers.attempts import enforce_rate_limits, record_attempt
from identity.handlers.deps import Deps
from identity.handlers.issue_session import issue_session
from servicekit.rpc import RpcContext


async def exchange_login_link(request: ExchangeLoginLinkV1, _ctx: RpcContext, deps: Deps) -> TokenPairReply:
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        await enforce_rate_limits(session, deps, request.client, None)
        link = (
            await session.execute(select(LoginLink).where(LoginLink.token_hash == hash_secret(request.token)))
        ).scalar_one_or_none()
        account = await session.get(Account, link.account_id) if link else None
        usable = (
            link is not None
            and judge(OneTimeSecretState(link.expires_at, link.used_at), now) is Verdict.usable
            and account is not None
        )
        if usable and account.status == AccountStatus.deactivated:
            record_attempt(session, deps, request.client, "login_refused_deactivated", success=False,
                           account_id=account.id)
            deactivated = True
            usable = False
        else:
            deactivated = False
            usable = usable and account.status == AccountStatus.active
        if usable:
            # Conditional update: of two concurrent uses of the same link, exactly one wins.
            claimed = await session.execute(
                update(LoginLink).where(LoginLink.id == link.id, LoginLink.used_at.is_(None)).values(used_at=now)
            )
            usable = claimed.rowcount == 1
        if usable:
            record_attempt(session, deps, request.client, "link_used", success=True, account_id=account.id)
            return await issue_session(session, deps, account, request.client)
        if not deactivated:
            record_attempt(session, deps, request.client, "link_refused", success=False,
                           account_id=account.id if account else None)
    # Raised after the block so that the refused attempt is committed, not rolled back.
    raise Unauthenticated(ACCOUNT_DEACTIVATED if deactivated else LINK_NOT_VALID)
