"""Issues an access token and a refresh token of a (new or continued) refresh family."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.identity import TokenPairReply
from identity.adapters.orm import Account, RefreshToken
from identity.adapters.signing_keys import current_key
from identity.domain.access_tokens import Claims, encode_access_token
from identity.domain.secrets import hash_secret, new_secret
from identity.handlers.deps import Deps


async def issue_session(
    session: AsyncSession, deps: Deps, account: Account, family_id: uuid.UUID | None = None
) -> TokenPairReply:
    now = deps.clock()
    settings = deps.settings
    key = await current_key(session, now, timedelta(days=settings.signing_key_max_age_days))
    access_token = encode_access_token(
        Claims(account.id, account.role, account.deployment_id, account.profile_id),
        key.kid,
        key.private_key_pem,
        now,
        timedelta(seconds=settings.access_token_ttl_s),
    )
    refresh_token = new_secret()
    session.add(
        RefreshToken(
            family_id=family_id or uuid.uuid4(),
            account_id=account.id,
            token_hash=hash_secret(refresh_token),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s),
        )
    )
    return TokenPairReply(
        access_token=access_token, refresh_token=refresh_token, expires_in=settings.access_token_ttl_s
    )
