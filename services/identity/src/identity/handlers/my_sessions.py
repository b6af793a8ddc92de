"""'Mon compte': the sessions open on this account, and ending one (a lost phone, a shared computer)."""
from __future__ import annotations

from sqlalchemy import func, select

from contracts.identity import (
    AcceptedReply,
    ListMySessionsV1,
    RevokeMySessionV1,
    SessionsReply,
    SessionView,
)
from identity.adapters import audit_trail
from identity.adapters.orm import RefreshToken
from identity.domain.errors import NotFound
from identity.handlers.accounts import current_account, revoke_sessions
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext

SESSION_NOT_FOUND = "Cette session n'existe pas ou elle est déjà terminée."


async def list_my_sessions(_request: ListMySessionsV1, ctx: RpcContext, deps: Deps) -> SessionsReply:
    now = deps.clock()
    async with deps.sessions() as session:
        principal, account = await current_account(session, deps, ctx)
        # A session is a refresh family: started by its first token, last used by its newest.
        rows = (await session.execute(
            select(RefreshToken.family_id, func.min(RefreshToken.created_at), func.max(RefreshToken.created_at))
            .where(RefreshToken.account_id == account.id)
            .group_by(RefreshToken.family_id)
            .having(func.count(RefreshToken.revoked_at) == 0, func.max(RefreshToken.expires_at) > now)
            .order_by(func.max(RefreshToken.created_at).desc())
        )).all()
        sessions = []
        for family_id, started_at, last_used_at in rows:
            newest = (await session.execute(select(RefreshToken).where(
                RefreshToken.family_id == family_id, RefreshToken.created_at == last_used_at).limit(1))).scalar_one()
            sessions.append(SessionView(session_id=family_id, started_at=started_at, last_used_at=last_used_at,
                                        ip=newest.ip, user_agent=newest.user_agent,
                                        current=family_id == principal.session_id))
    return SessionsReply(sessions=sessions)


async def revoke_my_session(request: RevokeMySessionV1, ctx: RpcContext, deps: Deps) -> AcceptedReply:
    async with deps.sessions() as session, session.begin():
        _principal, account = await current_account(session, deps, ctx)
        owned = await session.scalar(select(func.count()).where(
            RefreshToken.family_id == request.session_id, RefreshToken.account_id == account.id,
            RefreshToken.revoked_at.is_(None)))
        if not owned:
            raise NotFound(SESSION_NOT_FOUND)
        revoked = await revoke_sessions(session, deps, account.id, request.session_id)
        await deps.outbox.add(session, audit_trail.line("account.session_revoked", account))  # issue 21
    await deps.outbox.published(revoked)  # answered once every service can refuse that session's tokens
    return AcceptedReply()
