"""'Mon compte': a person corrects their own name, phone and position."""
from __future__ import annotations

from contracts.identity import MeReply, UpdateMyProfileV1
from identity.handlers.accounts import current_account
from identity.handlers.deps import Deps
from identity.handlers.get_me import me_of
from identity.handlers.profile_fields import apply_profile, profile_changed
from servicekit.rpc import RpcContext


async def update_my_profile(request: UpdateMyProfileV1, ctx: RpcContext, deps: Deps) -> MeReply:
    async with deps.sessions() as session, session.begin():
        _principal, account = await current_account(session, deps, ctx)
        apply_profile(account, request.profile, deps)
        await deps.outbox.add(session, profile_changed(account))
        return me_of(account, deps)
