"""Sessions: a bearer token for API clients, HttpOnly cookies for pages.

The access cookie lives as long as its 15-minute token; the refresh cookie renews it transparently.
Pages protect their forms with a double-submit token (``gateway.web.csrf``); the JSON API accepts the session
cookie for a change (POST, PUT, PATCH, DELETE) only from the gateway's own origin, see ``check_cookie_origin``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from contracts.base import RpcRequest
from contracts.identity import AccessTokenReply, ClientInfo, RefreshSessionV1, TokenPairReply
from gateway.bus import call, call_json
from servicekit.errors import Forbidden, Unauthenticated

ACCESS_COOKIE = "carnet_session"
REFRESH_COOKIE = "carnet_refresh"
REFRESH_MAX_AGE_S = 30 * 24 * 3600
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CROSS_ORIGIN = ("Cette demande vient d'un autre site que Carnet de bord : elle est refusée. Une application doit "
                "présenter son jeton d'accès dans l'en-tête Authorization.")


def client_ip(request: Request) -> str:
    """The caller's address: the peer, unless the peer is a trusted proxy (``GATEWAY_TRUSTED_PROXIES``); then the
    last X-Forwarded-For hop not added by a trusted proxy (the ones to its left are the client's to write)."""
    peer = request.client.host if request.client else ""
    settings = request.app.state.settings
    if not settings.is_trusted_proxy(peer):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not settings.is_trusted_proxy(hop):
            return hop[:64]
    return peer


def client_info(request: Request) -> ClientInfo:
    return ClientInfo(ip=client_ip(request), user_agent=request.headers.get("user-agent", "")[:300])


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


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from the gateway's own pages. ``Sec-Fetch-Site`` cannot be set
    by a page's script; without it, ``Origin`` (sent by browsers with every POST, PUT, PATCH and DELETE) must be
    the public URL or the address the request was sent to. A request carrying neither is not trusted."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin", "").lower()
    own = {_origin(request.app.state.settings.public_url), _origin(str(request.base_url))} - {""}
    return origin in own


def check_cookie_origin(request: Request) -> None:
    """The JSON API's CSRF defence: a change authenticated by the session cookie alone must come from the
    gateway's own origin, or another site could make a signed-in visitor's browser send it. A bearer token is
    never sent by the browser on its own: it needs no such check; the pages' forms carry their CSRF token."""
    if (request.method in UNSAFE_METHODS and request.url.path.startswith("/api/") and bearer_token(request) is None
            and {ACCESS_COOKIE, REFRESH_COOKIE} & set(request.cookies) and not same_origin(request)):
        raise Forbidden(CROSS_ORIGIN)


async def _refuse_cross_origin_cookie(request: Request) -> None:
    check_cookie_origin(request)


# On every API router whose routes accept the cookie: runs before the body is read or any RPC is made.
COOKIE_ORIGIN_CHECK = [Depends(_refuse_cross_origin_cookie)]


async def access_token_for(request: Request, response: Response | None = None) -> str:
    """The caller's access token: bearer header, else session cookie, renewed from the refresh cookie if needed."""
    if token := bearer_token(request):
        return token
    check_cookie_origin(request)  # also here, for a route whose router would lack COOKIE_ORIGIN_CHECK
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


async def json_as_caller(request: Request, response: Response, message: RpcRequest) -> Response:
    """The service's reply passed on as it came, for a large read (the notebook page): parsed and validated into
    its model only to be serialised again, it cost the gateway most of the route's time (issue 19). The reply's
    JSON is the model's own (``Withholding`` leaves its fields out the same way), so clients see no difference;
    the route's ``response_model`` still documents it. Cookies renewed on ``response`` go along."""
    body = await call_json(request, message, access_token=await access_token_for(request, response))
    answer = Response(content=body, media_type="application/json")
    answer.headers.raw.extend((name, value) for name, value in response.headers.raw if name == b"set-cookie")
    return answer
