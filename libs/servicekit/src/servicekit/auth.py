"""Every service verifies access tokens itself, against identity's JWKS (cached, refreshed on a new ``kid``)."""
from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK

from servicekit.errors import Unauthenticated

ISSUER = "carnet-identity"
AUDIENCE = "carnet"
ALGORITHM = "EdDSA"
SESSION_EXPIRED = "Votre session a expiré ou n'est pas valide. Reconnectez-vous."


@dataclass(frozen=True)
class Principal:
    account_id: uuid.UUID
    role: str
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    structure_ids: tuple[uuid.UUID, ...]

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        def optional_uuid(value: str | None) -> uuid.UUID | None:
            return uuid.UUID(value) if value else None

        return cls(
            account_id=uuid.UUID(claims["sub"]),
            role=claims["role"],
            deployment_id=optional_uuid(claims.get("deployment_id")),
            profile_id=optional_uuid(claims.get("profile_id")),
            structure_ids=tuple(uuid.UUID(s) for s in claims.get("structure_ids", [])),
        )


class TokenVerifier:
    def __init__(self, fetch_jwks: Callable[[], Awaitable[list[dict[str, Any]]]], *, min_refresh_interval_s: float = 10):
        self._fetch_jwks = fetch_jwks
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._min_refresh_interval_s = min_refresh_interval_s

    async def _key_for(self, kid: str) -> PyJWK:
        if kid not in self._keys and time.monotonic() - self._fetched_at > self._min_refresh_interval_s:
            # Rotation: an unknown kid triggers one refresh, at most every few seconds (no refresh storm).
            self._keys = {jwk["kid"]: PyJWK(jwk) for jwk in await self._fetch_jwks()}
            self._fetched_at = time.monotonic()
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthenticated(SESSION_EXPIRED) from None

    async def verify(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("Vous devez être connecté pour accéder à cette page.")
        try:
            kid = jwt.get_unverified_header(token).get("kid", "")
            key = await self._key_for(kid)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "role"]},
            )
            return Principal.from_claims(claims)
        except (jwt.PyJWTError, ValueError, KeyError):
            raise Unauthenticated(SESSION_EXPIRED) from None
