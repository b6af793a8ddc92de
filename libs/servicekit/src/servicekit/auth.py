"""Every service verifies access tokens itself, against identity's JWKS (cached, refreshed on a new ``kid``)."""
from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from servicekit.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from jwt import PyJWK

ISSUER = "carnet-identity"
AUDIENCE = "carnet"
ALGORITHM = "EdDSA"
SESSION_EXPIRED = "Votre session a expiré ou n'est pas valide. Reconnectez-vous."
STEPS_PENDING = {
    "cgu": "Acceptez les conditions générales d'utilisation pour continuer.",
    "onboarding": "Complétez votre profil (page « Bienvenue ») pour continuer.",
}


@dataclass(frozen=True)
class Principal:
    account_id: uuid.UUID
    role: str
    deployment_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    structure_ids: tuple[uuid.UUID, ...]
    session_id: uuid.UUID | None = None
    pending_steps: tuple[str, ...] = ()
    issued_at: int = 0

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
            session_id=optional_uuid(claims.get("sid")),
            pending_steps=tuple(claims.get("pending") or ()),
            issued_at=int(claims.get("iat", 0)),
        )


class Revocations:
    """Sessions revoked before their access tokens expire (logout everywhere, deactivation).

    Fed by identity's ``identity.sessions.revoked.v1`` events; a token issued at or before the revocation
    of its account or of its session is refused.
    """

    def __init__(self) -> None:
        self._accounts: dict[uuid.UUID, float] = {}
        self._sessions: dict[uuid.UUID, float] = {}

    def add(self, account_id: uuid.UUID, session_id: uuid.UUID | None, revoked_at: float) -> None:
        target, key = (self._sessions, session_id) if session_id else (self._accounts, account_id)
        target[key] = max(target.get(key, 0.0), revoked_at)

    def revoked(self, principal: Principal) -> bool:
        # JWT iat has one-second resolution: a token issued in the same second as the revocation is refused too.
        if principal.issued_at <= self._accounts.get(principal.account_id, -1):
            return True
        return principal.session_id is not None and principal.issued_at <= self._sessions.get(principal.session_id, -1)


# Tokens whose signature was checked, kept with their expiry, the most recent ones: a user's every request carries
# the same token for its quarter of an hour, and checking its Ed25519 signature again each time was 4 % of the
# notebook page's time in its service. Revocations and pending steps are still judged at every request.
VERIFIED_KEPT = 2048


class TokenVerifier:
    def __init__(self, fetch_jwks: Callable[[], Awaitable[list[dict[str, Any]]]], *, min_refresh_interval_s: float = 10,
                 revocations: Revocations | None = None):
        self._fetch_jwks = fetch_jwks
        self.revocations = revocations or Revocations()
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._min_refresh_interval_s = min_refresh_interval_s
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> its holder, its expiry (oldest first)

    async def _key_for(self, kid: str) -> PyJWK:
        if kid not in self._keys and time.monotonic() - self._fetched_at > self._min_refresh_interval_s:
            # Rotation: an unknown kid triggers one refresh, at most every few seconds (no refresh storm).
            from jwt import PyJWK
            self._keys = {jwk["kid"]: PyJWK(jwk) for jwk in await self._fetch_jwks()}
            self._fetched_at = time.monotonic()
            self._verified.clear()  # a key withdrawn takes its tokens with it
        try:
            return self._keys[kid]
        except KeyError:
            raise Unauthenticated(SESSION_EXPIRED) from None

    async def verify(self, token: str | None, *, allow_pending: bool = False) -> Principal:
        """The token's holder. Refused while the account has steps pending (CGU, onboarding), unless
        ``allow_pending`` (the calls that complete those steps, and "who am I")."""
        principal = await self._decode(token)
        if self.revocations.revoked(principal):
            raise Unauthenticated(SESSION_EXPIRED)
        if principal.pending_steps and not allow_pending:
            step = principal.pending_steps[0]
            raise Forbidden(STEPS_PENDING.get(step, SESSION_EXPIRED), details={"pending_steps": list(principal.pending_steps)})
        return principal

    async def _decode(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("Vous devez être connecté pour accéder à cette page.")
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:  # as PyJWT: expired from its ``exp`` second on
            return known[0]
        # Imported at the first token, not at start: PyJWT loads cryptography (OpenSSL), some 11 MB of an idle
        # service's memory (issue 19 item 4); a service that no request reached yet does not need it.
        import jwt
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
            principal = Principal.from_claims(claims)
        except (jwt.PyJWTError, ValueError, KeyError):
            raise Unauthenticated(SESSION_EXPIRED) from None
        self._verified.pop(token, None)
        if len(self._verified) >= VERIFIED_KEPT:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (principal, claims["exp"])
        return principal
