"""A local OpenID Connect provider for tests, shaped like ProConnect: discovery, authorization code with PKCE,
RS256 id_token, signed userinfo (``application/jwt``). It approves at once as ``user`` (set by the test)."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from jwt.algorithms import RSAAlgorithm

from testkit.infra import free_port, wait_for_port


@dataclass
class OidcUser:
    email: str
    given_name: str = "Pierre"
    usual_name: str = "Chevalier"
    email_verified: bool = True
    sub: str = field(default_factory=lambda: secrets.token_hex(8))


class LocalOidcIssuer:
    def __init__(self, client_id: str = "carnet-test", client_secret: str = "carnet-test-secret") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.port = free_port()
        self.user: OidcUser | None = None
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = "test-key"
        self._codes: dict[str, dict] = {}
        self._tokens: dict[str, OidcUser] = {}
        self._server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _sign(self, claims: dict) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery():
            return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token", "userinfo_endpoint": f"{self.url}/userinfo",
                    "jwks_uri": f"{self.url}/jwks", "response_types_supported": ["code"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"]}

        @app.get("/jwks")
        async def jwks():
            public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
            return {"keys": [{**public, "kid": self._kid, "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(request: Request):
            q = request.query_params
            if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256" or self.user is None:
                return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'error': 'access_denied', 'state': q.get('state', '')})}")
            code = secrets.token_urlsafe(16)
            self._codes[code] = {"challenge": q["code_challenge"], "nonce": q["nonce"], "user": self.user,
                                 "redirect_uri": q["redirect_uri"]}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}")

        @app.post("/token")
        async def token(code: str = Form(), code_verifier: str = Form(), client_id: str = Form(),
                        client_secret: str = Form(), redirect_uri: str = Form(), grant_type: str = Form()):
            grant = self._codes.pop(code, None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
            if (grant is None or grant_type != "authorization_code" or client_id != self.client_id
                    or client_secret != self.client_secret or challenge != grant["challenge"]
                    or redirect_uri != grant["redirect_uri"]):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            user: OidcUser = grant["user"]
            access_token = secrets.token_urlsafe(16)
            self._tokens[access_token] = user
            now = int(time.time())
            id_token = self._sign({"iss": self.url, "aud": self.client_id, "sub": user.sub, "iat": now,
                                   "exp": now + 60, "nonce": grant["nonce"]})
            return {"access_token": access_token, "token_type": "Bearer", "id_token": id_token, "expires_in": 60}

        @app.get("/userinfo")
        async def userinfo(request: Request):
            user = self._tokens.get(request.headers.get("authorization", "")[7:])
            if user is None:
                return JSONResponse({"error": "invalid_token"}, status_code=401)
            signed = self._sign({"iss": self.url, "aud": self.client_id, "sub": user.sub, "email": user.email,
                                 "email_verified": user.email_verified, "given_name": user.given_name,
                                 "usual_name": user.usual_name})
            return Response(signed, media_type="application/jwt")

        return app

    def start(self) -> LocalOidcIssuer:
        self._server = uvicorn.Server(uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning"))
        threading.Thread(target=self._server.run, daemon=True, name="oidc-issuer").start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True

    def identity_env(self) -> dict[str, str]:
        """Settings that point the identity service at this issuer."""
        return {"IDENTITY_OIDC_ISSUER": self.url, "IDENTITY_OIDC_CLIENT_ID": self.client_id,
                "IDENTITY_OIDC_CLIENT_SECRET": self.client_secret}
