"""Sends a one-time login link to an active account; answers the same whether or not the email is known."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AcceptedReply, LinkPurpose, LoginLinkIssuedV1, RequestLoginLinkV1
from identity.adapters.orm import Account, LoginLink
from identity.domain.errors import INVALID_EMAIL, Invalid
from identity.domain.secrets import hash_secret, new_secret, normalise_email
from identity.handlers.attempts import enforce_rate_limits, record_attempt
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext


async def request_login_link(request: RequestLoginLinkV1, _ctx: RpcContext, deps: Deps) -> AcceptedReply:
    email = normalise_email(request.email)
    if email is None:
        raise Invalid(INVALID_EMAIL, details={"field": "email"})
    email_hash = hash_secret(email)
    async with deps.sessions() as session, session.begin():
        await enforce_rate_limits(session, deps, request.client, email_hash)
        account = (
            await session.execute(select(Account).where(Account.email == email, Account.status == "active"))
        ).scalar_one_or_none()
        record_attempt(session, deps, request.client, "link_requested", success=account is not None,
                       email_hash=email_hash, account_id=account.id if account else None)
        if account is not None:
            await issue_link(session, deps, account, LinkPurpose.login)
    return AcceptedReply()


async def issue_link(session: AsyncSession, deps: Deps, account: Account, purpose: LinkPurpose,
                     invited_by: str = "") -> None:
    """A one-time login link by email; an invitation's lives longer than a login request's."""
    token = new_secret()
    now = deps.clock()
    ttl = deps.settings.login_link_ttl_s if purpose == LinkPurpose.login else deps.settings.invitation_link_ttl_s
    link = LoginLink(account_id=account.id, token_hash=hash_secret(token), created_at=now,
                     expires_at=now + timedelta(seconds=ttl))
    session.add(link)
    await deps.outbox.add(session, LoginLinkIssuedV1(
        account_id=account.id, email=account.email, token=token, expires_at=link.expires_at, purpose=purpose,
        firstname=account.firstname, invited_by=invited_by))
