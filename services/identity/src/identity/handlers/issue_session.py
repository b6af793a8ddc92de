"""Issues tokens: a new session (login), a rotated one (refresh), or a fresh access token for the same session."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import AccessTokenReply, ClientInfo, TokenPairReply
from identity.adapters.orm import Account, RefreshToken
from identity.adapters.signing_keys import current_key, private_key_of
from identity.domain.access_tokens import Claims, encode_access_token
from identity.domain.onboarding import pending_steps
from identity.domain.secrets import hash_secret, new_secret
from identity.handlers.deps import Deps


def steps_of(account: Account, deps: Deps) -> list[str]:
    return pending_steps(account.role, account.cgu_version, account.onboarded_at, deps.settings.cgu_version)


async def access_token_for(session: AsyncSession, deps: Deps, account: Account, session_id: uuid.UUID) -> str:
    now = deps.clock()
    settings = deps.settings
    key = await current_key(session, now, timedelta(days=settings.signing_key_max_age_days), settings.key_password)
    claims = Claims(
        account.id, account.role, account.deployment_id, account.profile_id,
        tuple(uuid.UUID(str(s)) for s in account.structure_ids or ()), session_id, tuple(steps_of(account, deps)),
    )
    return encode_access_token(claims, key.kid, private_key_of(key, settings.key_password), now,
                               timedelta(seconds=settings.access_token_ttl_s))


async def reissue_access_token(session: AsyncSession, deps: Deps, account: Account,
                               session_id: uuid.UUID) -> AccessTokenReply:
    return AccessTokenReply(access_token=await access_token_for(session, deps, account, session_id),
                            expires_in=deps.settings.access_token_ttl_s)


async def issue_session(
    session: AsyncSession, deps: Deps, account: Account, client: ClientInfo, family_id: uuid.UUID | None = None
) -> TokenPairReply:
    """``family_id`` None opens a new session (a login); otherwise the session continues (a refresh)."""
    now = deps.clock()
    if family_id is None:
        family_id = uuid.uuid4()
        account.last_login_at = now
    refresh_token = new_secret()
    session.add(
        RefreshToken(
            family_id=family_id,
            account_id=account.id,
            token_hash=hash_secret(refresh_token),
            created_at=now,
            expires_at=now + timedelta(seconds=deps.settings.refresh_token_ttl_s),
            ip=client.ip[:64],
            user_agent=client.user_agent[:300],
        )
    )
    return TokenPairReply(
        access_token=await access_token_for(session, deps, account, family_id),
        refresh_token=refresh_token,
        expires_in=deps.settings.access_token_ttl_s,
    )
