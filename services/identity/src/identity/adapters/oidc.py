"""OpenID Connect client (authorization code + PKCE) for ProConnect or any compliant provider.

ProConnect specifics handled: discovery document, signed userinfo (``application/jwt``), ``usual_name``.
httpx and PyJWT are imported at the first use: an idle identity does not carry them (issue 19 item 4).
"""
from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from jwt import PyJWK

SIGNING_ALGORITHMS = ["RS256", "ES256", "EdDSA", "PS256"]


class OidcError(Exception):
    """The provider's answer cannot be trusted or used; the reason is for logs, not for users."""


@dataclass(frozen=True)
class OidcIdentity:
    email: str
    email_verified: bool
    given_name: str
    family_name: str
    subject: str


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class OidcClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str, *, timeout_s: float = 10):
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout_s = timeout_s
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, PyJWK] = {}
        self._keys_at = 0.0

    def _http(self):
        import httpx

        return httpx.AsyncClient(timeout=self.timeout_s)

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            async with self._http() as http:
                answer = await http.get(f"{self.issuer}/.well-known/openid-configuration")
                answer.raise_for_status()
                metadata = answer.json()
            if metadata.get("issuer", "").rstrip("/") != self.issuer:
                raise OidcError("discovery document names another issuer")
            self._metadata = metadata
        return self._metadata

    async def authorization_url(self, *, redirect_uri: str, scopes: str, state: str, nonce: str,
                                code_verifier: str) -> str:
        metadata = await self.metadata()
        query = urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri, "scope": scopes,
            "state": state, "nonce": nonce, "code_challenge": code_challenge(code_verifier),
            "code_challenge_method": "S256",
        })
        return f"{metadata['authorization_endpoint']}?{query}"

    async def _key(self, kid: str | None) -> PyJWK:
        if kid not in self._keys and time.monotonic() - self._keys_at > 10:
            from jwt import PyJWK
            async with self._http() as http:
                answer = await http.get((await self.metadata())["jwks_uri"])
                answer.raise_for_status()
            self._keys = {k.get("kid"): PyJWK(k) for k in answer.json()["keys"] if k.get("use", "sig") == "sig"}
            self._keys_at = time.monotonic()
        if kid not in self._keys:
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
            raise OidcError("token signed with an unknown key")
        return self._keys[kid]

    async def _decode(self, token: str, **options) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            key = await self._key(header.get("kid"))
            return jwt.decode(token, key.key, algorithms=SIGNING_ALGORITHMS, **options)
        except jwt.PyJWTError as exc:
            raise OidcError(f"invalid signed token: {exc}") from exc

    async def identity(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> OidcIdentity:
        metadata = await self.metadata()
        async with self._http() as http:
            answer = await http.post(metadata["token_endpoint"], data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": self.client_id, "client_secret": self.client_secret, "code_verifier": code_verifier,
            })
            if answer.status_code != 200:
                raise OidcError(f"token endpoint answered {answer.status_code}")
            tokens = answer.json()
            claims = await self._decode(tokens["id_token"], audience=self.client_id, issuer=metadata["issuer"],
                                        options={"require": ["exp", "iat", "sub", "nonce"]})
            if claims.get("nonce") != nonce:
                raise OidcError("nonce mismatch")
            if metadata.get("userinfo_endpoint") and "access_token" in tokens:
                info = await http.get(metadata["userinfo_endpoint"],
                                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
                if info.status_code == 200:
                    if info.headers.get("content-type", "").startswith("application/jwt"):
                        userinfo = await self._decode(info.text, audience=self.client_id,
                                                      options={"verify_iss": False})
                    else:
                        userinfo = info.json()
                    if userinfo.get("sub") != claims["sub"]:
                        raise OidcError("userinfo is about another subject")
                    claims = {**claims, **userinfo}
        if not claims.get("email"):
            raise OidcError("no email in the identity")
        return OidcIdentity(
            email=claims["email"], email_verified=bool(claims.get("email_verified")),
            given_name=claims.get("given_name", ""),
            family_name=claims.get("usual_name") or claims.get("family_name", ""), subject=claims["sub"],
        )
