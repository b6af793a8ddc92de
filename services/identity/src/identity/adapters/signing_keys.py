"""Signing keys in the identity database: one current key, older ones published until their tokens expire."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import SigningKey
from identity.domain.access_tokens import new_private_key_pem, public_jwk


async def current_key(session: AsyncSession, now: datetime, max_age: timedelta) -> SigningKey:
    """The newest key, rotated when older than ``max_age`` (the previous one stays in the JWKS)."""
    key = (
        await session.execute(
            select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc()).limit(1)
        )
    ).scalar_one_or_none()
    if key is None or now - key.created_at > max_age:
        key = SigningKey(kid=secrets.token_hex(8), private_key_pem=new_private_key_pem(), created_at=now)
        session.add(key)
        await session.flush()
    return key


async def published_jwks(session: AsyncSession, now: datetime, keep: timedelta) -> list[dict]:
    """Public halves of every key that may still have signed a living token."""
    keys = (
        await session.execute(select(SigningKey).where(SigningKey.created_at > now - keep).order_by(SigningKey.created_at))
    ).scalars()
    return [public_jwk(key.kid, key.private_key_pem) for key in keys]
