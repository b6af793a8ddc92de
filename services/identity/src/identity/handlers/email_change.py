"""Change of email: a link goes to the new address; the email changes only when that link is used."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from contracts.identity import (
    AcceptedReply,
    ConfirmEmailChangeV1,
    LinkPurpose,
    LoginLinkIssuedV1,
    RequestEmailChangeV1,
)
from identity.adapters.one_time_secrets import claim, usable
from identity.adapters.orm import Account, EmailChange
from identity.domain.errors import (
    EMAIL_LINK_NOT_VALID, EMAIL_TAKEN, INVALID_EMAIL, TOO_MANY_REQUESTS, Conflict, Invalid, RateLimited, Unauthenticated,
)
from identity.domain.secrets import hash_secret, new_secret, normalise_email
from identity.handlers.accounts import current_account, refuse_inactive
from identity.handlers.profile_fields import profile_changed
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext


async def request_email_change(request: RequestEmailChangeV1, ctx: RpcContext, deps: Deps) -> AcceptedReply:
    new_email = normalise_email(request.new_email)
    if new_email is None:
        raise Invalid(INVALID_EMAIL, details={"field": "new_email"})
    async with deps.sessions() as session, session.begin():
        _principal, account = await current_account(session, deps, ctx)
        now = deps.clock()
        since = now - timedelta(seconds=deps.settings.rate_window_s)
        if await session.scalar(select(func.count()).where(EmailChange.account_id == account.id,
                                                           EmailChange.created_at > since)) \
                >= deps.settings.max_link_requests_per_email:
            raise RateLimited(TOO_MANY_REQUESTS)  # links mailed to addresses of the caller's choosing
        if await session.scalar(select(Account.id).where(Account.email == new_email, Account.id != account.id)):
            # Nothing sent, and the same answer: a refusal would tell anyone signed in which addresses have an
            # account. The link's confirmation checks again (EMAIL_TAKEN).
            return AcceptedReply()
        token = new_secret()
        change = EmailChange(account_id=account.id, new_email=new_email, token_hash=hash_secret(token),
                             created_at=now, expires_at=now + timedelta(seconds=deps.settings.email_change_ttl_s))
        session.add(change)
        await deps.outbox.add(session, LoginLinkIssuedV1(
            account_id=account.id, email=new_email, token=token, expires_at=change.expires_at,
            purpose=LinkPurpose.email_change, firstname=account.firstname))
    return AcceptedReply()


async def confirm_email_change(request: ConfirmEmailChangeV1, _ctx: RpcContext, deps: Deps) -> AcceptedReply:
    """The token alone proves access to the new mailbox; it serves once, within a day."""
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        change = (await session.execute(select(EmailChange).where(
            EmailChange.token_hash == hash_secret(request.token)))).scalar_one_or_none()
        if not (usable(change, now) and await claim(session, change, now)):
            raise Unauthenticated(EMAIL_LINK_NOT_VALID)
        account = refuse_inactive(await session.get(Account, change.account_id))
        if await session.scalar(select(Account.id).where(Account.email == change.new_email, Account.id != account.id)):
            raise Conflict(EMAIL_TAKEN)
        account.email, account.updated_at = change.new_email, now
        await deps.outbox.add(session, profile_changed(account))
    return AcceptedReply()
