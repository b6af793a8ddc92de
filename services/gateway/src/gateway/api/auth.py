"""Login by magic link, token exchange and refresh, for API clients."""
from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from contracts.identity import (
    AcceptedReply,
    ExchangeLoginLinkV1,
    LogoutV1,
    RefreshSessionV1,
    RequestLoginLinkV1,
    TokenPairReply,
)
from gateway.auth.session import client_info
from gateway.bus import call

router = APIRouter(prefix="/api/v1/auth", tags=["authentification"])

LINK_SENT = "Si un compte existe pour cette adresse, un lien de connexion vient d'y être envoyé. Il est valable 15 minutes."


class MagicLinkBody(BaseModel):
    email: str = Field(max_length=320, examples=["pro@demo.carnet.test"])


class MagicLinkAnswer(BaseModel):
    message: str


class TokenBody(BaseModel):
    token: str = Field(max_length=200)


class RefreshBody(BaseModel):
    refresh_token: str = Field(max_length=200)


@router.post("/magic-link", status_code=status.HTTP_202_ACCEPTED, response_model=MagicLinkAnswer)
async def request_magic_link(body: MagicLinkBody, request: Request) -> MagicLinkAnswer:
    """Sends a login link by email. The answer is the same whether or not the address has an account."""
    await call(request, RequestLoginLinkV1(email=body.email, client=client_info(request)))
    return MagicLinkAnswer(message=LINK_SENT)


@router.post("/token", response_model=TokenPairReply)
async def exchange_token(body: TokenBody, request: Request) -> TokenPairReply:
    """Exchanges the token of a login link for an access token (15 min) and a refresh token."""
    return await call(request, ExchangeLoginLinkV1(token=body.token, client=client_info(request)))


@router.post("/refresh", response_model=TokenPairReply)
async def refresh(body: RefreshBody, request: Request) -> TokenPairReply:
    """Rotates the refresh token; presenting an old one again ends the whole session."""
    return await call(request, RefreshSessionV1(refresh_token=body.refresh_token, client=client_info(request)))


@router.post("/logout", response_model=AcceptedReply)
async def logout(body: RefreshBody, request: Request) -> AcceptedReply:
    return await call(request, LogoutV1(refresh_token=body.refresh_token))
