"""Signing keys in the identity database: one current key, older ones published until their tokens expire.

Keys are stored encrypted (PKCS#8 with the service secret); decrypted keys are kept in memory by ``kid``
because decryption is deliberately slow.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import SigningKey
from identity.domain.access_tokens import load_private_key, new_private_key_pem, public_jwk

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_decrypted: dict[str, Ed25519PrivateKey] = {}


def private_key_of(key: SigningKey, password: bytes) -> Ed25519PrivateKey:
    if key.kid not in _decrypted:
        _decrypted[key.kid] = load_private_key(key.private_key_pem, password)
    return _decrypted[key.kid]


async def current_key(session: AsyncSession, now: datetime, max_age: timedelta, password: bytes) -> SigningKey:
    """The newest key, rotated when older than ``max_age`` (the previous one stays in the JWKS)."""
    key = (
        await session.execute(
            select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc()).limit(1)
        )
    ).scalar_one_or_none()
    if key is None or now - key.created_at > max_age:
        key = SigningKey(kid=secrets.token_hex(8), private_key_pem=new_private_key_pem(password), created_at=now)
        session.add(key)
        await session.flush()
    return key


async def published_jwks(session: AsyncSession, now: datetime, keep: timedelta, password: bytes) -> list[dict]:
    """Public halves of every key that may still have signed a living token."""
    keys = (
        await session.execute(select(SigningKey).where(SigningKey.created_at > now - keep).order_by(SigningKey.created_at))
    ).scalars()
    return [public_jwk(key.kid, private_key_of(key, password)) for key in keys]
