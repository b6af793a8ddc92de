"""First login of a person of a structure: they confirm name, phone and position ("Bienvenue")."""
from __future__ import annotations

from contracts.identity import AccessTokenReply, CompleteOnboardingV1
from identity.handlers.accounts import current_account
from identity.handlers.deps import Deps
from identity.handlers.issue_session import reissue_access_token
from identity.handlers.profile_fields import apply_profile, profile_changed
from servicekit.rpc import RpcContext


async def complete_onboarding(request: CompleteOnboardingV1, ctx: RpcContext, deps: Deps) -> AccessTokenReply:
    async with deps.sessions() as session, session.begin():
        principal, account = await current_account(session, deps, ctx, allow_pending=True)
        apply_profile(account, request.profile, deps)
        account.onboarded_at = account.onboarded_at or deps.clock()
        await deps.outbox.add(session, profile_changed(account))
        return await reissue_access_token(session, deps, account, principal.session_id)
