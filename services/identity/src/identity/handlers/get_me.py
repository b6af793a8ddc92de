"""Who holds this access token, and what they must still do (answered even while steps are pending)."""
from __future__ import annotations

from contracts.identity import GetMeV1, MeReply
from identity.adapters.orm import Account
from identity.handlers.accounts import current_account
from identity.handlers.deps import Deps
from identity.handlers.issue_session import steps_of
from servicekit.rpc import RpcContext


def me_of(account: Account, deps: Deps) -> MeReply:
    return MeReply(
        account_id=account.id, email=account.email, phone=account.phone, role=account.role,
        deployment_id=account.deployment_id, profile_id=account.profile_id,
        structure_ids=list(account.structure_ids or ()), firstname=account.firstname, lastname=account.lastname,
        position=account.position, pending_steps=steps_of(account, deps), cgu_version=deps.settings.cgu_version,
    )


async def get_me(_request: GetMeV1, ctx: RpcContext, deps: Deps) -> MeReply:
    async with deps.sessions() as session:
        _principal, account = await current_account(session, deps, ctx, allow_pending=True)
        return me_of(account, deps)
