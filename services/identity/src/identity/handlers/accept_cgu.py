"""Accepting the current terms of use; the new access token no longer carries the step."""
from __future__ import annotations

from contracts.identity import AcceptCguV1, AccessTokenReply
from identity.domain.errors import CGU_OUTDATED, Conflict
from identity.handlers.accounts import current_account
from identity.handlers.deps import Deps
from identity.handlers.issue_session import reissue_access_token
from servicekit.rpc import RpcContext


async def accept_cgu(request: AcceptCguV1, ctx: RpcContext, deps: Deps) -> AccessTokenReply:
    if request.version != deps.settings.cgu_version:
        raise Conflict(CGU_OUTDATED, details={"current_version": deps.settings.cgu_version})
    async with deps.sessions() as session, session.begin():
        principal, account = await current_account(session, deps, ctx, allow_pending=True)
        if account.cgu_version != request.version:
            account.cgu_version, account.cgu_accepted_at = request.version, deps.clock()
        return await reissue_access_token(session, deps, account, principal.session_id)
