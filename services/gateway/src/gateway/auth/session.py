"""Sessions: a bearer token for API clients, HttpOnly cookies for pages.

The access cookie lives as long as its 15-minute token; the refresh cookie renews it transparently.
"""
from __future__ import annotations

from fastapi import Request, Response

from typing import Any

from contracts.base import RpcRequest
from contracts.identity import AccessTokenReply, ClientInfo, RefreshSessionV1, TokenPairReply
from gateway.bus import call
from servicekit.errors import Unauthenticated

ACCESS_COOKIE = "carnet_session"
REFRESH_COOKIE = "carnet_refresh"
REFRESH_MAX_AGE_S = 30 * 24 * 3600


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(ip=request.client.host if request.client else "", user_agent=request.headers.get("user-agent", "")[:300])


def bearer_token(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def set_session_cookies(request: Request, response: Response, tokens: TokenPairReply) -> None:
    secure = request.app.state.settings.secure_cookies
    response.set_cookie(ACCESS_COOKIE, tokens.access_token, max_age=tokens.expires_in, httponly=True,
                        samesite="lax", secure=secure, path="/")
    response.set_cookie(REFRESH_COOKIE, tokens.refresh_token, max_age=REFRESH_MAX_AGE_S, httponly=True,
                        samesite="lax", secure=secure, path="/")


def set_access_cookie(request: Request, response: Response, tokens: AccessTokenReply) -> None:
    """After CGU or onboarding: same session, new access token without the completed step."""
    if bearer_token(request) is None:
        response.set_cookie(ACCESS_COOKIE, tokens.access_token, max_age=tokens.expires_in, httponly=True,
                            samesite="lax", secure=request.app.state.settings.secure_cookies, path="/")


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/")


async def access_token_for(request: Request, response: Response | None = None) -> str:
    """The caller's access token: bearer header, else session cookie, renewed from the refresh cookie if needed."""
    if token := bearer_token(request):
        return token
    if token := request.cookies.get(ACCESS_COOKIE):
        return token
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh and response is not None:
        tokens = await call(request, RefreshSessionV1(refresh_token=refresh, client=client_info(request)))
        set_session_cookies(request, response, tokens)
        return tokens.access_token
    raise Unauthenticated("Vous devez être connecté pour accéder à cette page.")


async def call_as_caller(request: Request, response: Response, message: RpcRequest) -> Any:
    """An RPC on behalf of the caller: bearer header, or session cookie renewed on ``response`` when expired."""
    return await call(request, message, access_token=await access_token_for(request, response))
