"""Turns a login link into a session; a link serves once, within its lifetime."""
from __future__ import annotations

from sqlalchemy import select

from contracts.identity import AccountStatus, ExchangeLoginLinkV1, TokenPairReply
from identity.adapters.one_time_secrets import claim, usable
from identity.adapters.orm import Account, LoginLink
from identity.domain.errors import ACCOUNT_DEACTIVATED, LINK_NOT_VALID, Unauthenticated
from identity.domain.secrets import hash_secret
from identity.handlers.attempts import enforce_rate_limits, record_attempt
from identity.handlers.deps import Deps
from identity.handlers.issue_session import issue_session
from servicekit.metrics import LOGIN_FAILURES
from servicekit.rpc import RpcContext


async def exchange_login_link(request: ExchangeLoginLinkV1, _ctx: RpcContext, deps: Deps) -> TokenPairReply:
    now = deps.clock()
    token_hash = hash_secret(request.token)
    async with deps.sessions() as session, session.begin():
        await enforce_rate_limits(session, deps, request.client, None, token_hash=token_hash)
        link = (
            await session.execute(select(LoginLink).where(LoginLink.token_hash == token_hash))
        ).scalar_one_or_none()
        account = await session.get(Account, link.account_id) if link else None
        valid = usable(link, now) and account is not None
        deactivated = valid and account.status == AccountStatus.deactivated
        if deactivated:
            record_attempt(session, deps, request.client, "login_refused_deactivated", success=False,
                           account_id=account.id)
        elif valid and account.status == AccountStatus.active and await claim(session, link, now):
            record_attempt(session, deps, request.client, "link_used", success=True, account_id=account.id)
            return await issue_session(session, deps, account, request.client)
        else:
            record_attempt(session, deps, request.client, "link_refused", success=False, email_hash=token_hash,
                           account_id=account.id if account else None)
    # Raised after the block so that the refused attempt is committed, not rolled back.
    LOGIN_FAILURES.labels("link", "account_deactivated" if deactivated else "invalid_link").inc()
    raise Unauthenticated(ACCOUNT_DEACTIVATED if deactivated else LINK_NOT_VALID)
