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


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=request.app.state.settings.secure_cookies, path="/")


def set_session_cookies(request: Request, response: Response, tokens: TokenPairReply) -> None:
    _set_cookie(request, response, ACCESS_COOKIE, tokens.access_token, tokens.expires_in)
    _set_cookie(request, response, REFRESH_COOKIE, tokens.refresh_token, REFRESH_MAX_AGE_S)


def set_access_cookie(request: Request, response: Response, tokens: AccessTokenReply) -> None:
    """After CGU or onboarding: same session, new access token without the completed step."""
    if bearer_token(request) is None:
        _set_cookie(request, response, ACCESS_COOKIE, tokens.access_token, tokens.expires_in)


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
