"""Rotates a refresh token. Presenting one already used means it was stolen: the whole family is revoked.

Revoking a family (logout, replay) ends its access tokens too: ``revoke_sessions`` tells every service on
``identity.sessions.revoked.v1``, as a deactivation does, instead of letting them live their 15 minutes.
"""
from __future__ import annotations

from sqlalchemy import select, update

from contracts.identity import AcceptedReply, AccountStatus, LogoutV1, RefreshSessionV1, TokenPairReply
from identity.adapters import audit_trail
from identity.adapters.orm import Account, RefreshToken
from identity.domain.errors import ACCOUNT_DEACTIVATED, SESSION_NOT_VALID, Unauthenticated
from identity.domain.secrets import hash_secret
from identity.domain.sessions import OneTimeSecretState, Verdict, judge
from identity.handlers.accounts import revoke_sessions
from identity.handlers.attempts import record_attempt
from identity.handlers.deps import Deps
from identity.handlers.issue_session import issue_session
from servicekit.rpc import RpcContext


async def refresh_session(request: RefreshSessionV1, _ctx: RpcContext, deps: Deps) -> TokenPairReply:
    now = deps.clock()
    deactivated, revoked = False, None
    async with deps.sessions() as session, session.begin():
        token = (
            await session.execute(
                select(RefreshToken).where(RefreshToken.token_hash == hash_secret(request.refresh_token))
            )
        ).scalar_one_or_none()
        account = await session.get(Account, token.account_id) if token else None
        verdict = judge(OneTimeSecretState(token.expires_at, token.used_at, token.revoked_at), now) if token else None
        if account is not None and account.status == AccountStatus.deactivated:
            deactivated = True  # its sessions were revoked with it: say why rather than "expired"
        elif verdict is Verdict.usable and account is not None and account.status == AccountStatus.active:
            claimed = await session.execute(
                update(RefreshToken)
                .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount == 1:
                record_attempt(session, deps, request.client, "refreshed", success=True, account_id=account.id)
                return await issue_session(session, deps, account, request.client, family_id=token.family_id)
            verdict = Verdict.already_used  # a concurrent use won the race: treat as a replay
        if token is not None and verdict is Verdict.already_used:
            revoked = await revoke_sessions(session, deps, token.account_id, token.family_id)
            record_attempt(session, deps, request.client, "refresh_replayed", success=False, account_id=token.account_id)
    if revoked is not None:
        await deps.outbox.published(revoked)
    raise Unauthenticated(ACCOUNT_DEACTIVATED if deactivated else SESSION_NOT_VALID)


async def logout(request: LogoutV1, _ctx: RpcContext, deps: Deps) -> AcceptedReply:
    async with deps.sessions() as session, session.begin():
        token = (
            await session.execute(
                select(RefreshToken).where(RefreshToken.token_hash == hash_secret(request.refresh_token))
            )
        ).scalar_one_or_none()
        revoked = (await revoke_sessions(session, deps, token.account_id, token.family_id)
                   if token is not None else None)
        if token is not None and (account := await session.get(Account, token.account_id)) is not None:
            await deps.outbox.add(session, audit_trail.line("account.logout", account))  # issue 21
    if revoked is not None:
        await deps.outbox.published(revoked)  # answered once every service can refuse the session's tokens
    return AcceptedReply()
