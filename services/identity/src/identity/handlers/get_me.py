"""Who holds this access token."""
from __future__ import annotations

from contracts.identity import GetMeV1, MeReply
from identity.adapters.orm import Account
from identity.domain.errors import SESSION_NOT_VALID, Unauthenticated
from identity.handlers.deps import Deps
from servicekit.rpc import RpcContext


async def get_me(_request: GetMeV1, ctx: RpcContext, deps: Deps) -> MeReply:
    principal = await deps.verifier.verify(ctx.bearer_token)
    async with deps.sessions() as session:
        account = await session.get(Account, principal.account_id)
    if account is None or account.status != "active":
        raise Unauthenticated(SESSION_NOT_VALID)
    return MeReply(
        account_id=account.id,
        email=account.email,
        role=account.role,
        deployment_id=account.deployment_id,
        profile_id=account.profile_id,
    )
