"""The gateway's only way to the services: RPC over NATS, with the caller's token, request id and trace."""
from __future__ import annotations

from typing import Any

from fastapi import Request

from contracts.base import RpcRequest
from contracts.identity import GetMeV1, MeReply
from gateway.auth.me_cache import CHANGES_ME
from servicekit.rpc import RpcClient


def client_of(request: Request) -> RpcClient:
    return request.app.state.rpc


async def call(request: Request, message: RpcRequest, *, access_token: str | None = None,
               timeout_s: float | None = None) -> Any:
    """``timeout_s``: longer than the bus's default for the few RPCs that do much in one call (a bulk decision)."""
    headers = {"X-Request-Id": request.state.request_id}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    try:
        return await client_of(request).call(message, headers=headers, timeout_s=timeout_s)
    finally:
        # Answered or not (a timeout may hide a change made), what this gateway holds of who people are is dropped
        # now, before identity's event comes back.
        if isinstance(message, CHANGES_ME) and (cache := getattr(request.app.state, "me_cache", None)) is not None:
            cache.forget_all()


async def me_of(request: Request, access_token: str) -> MeReply:
    """Who the bearer of ``access_token`` is: as this gateway holds it since an earlier page of the same token
    (gateway.auth.me_cache), else asked of identity. An app that follows no events (built without its lifespan, as
    in tests) asks every time."""
    cache = getattr(request.app.state, "me_cache", None)
    if cache is None:
        return await call(request, GetMeV1(), access_token=access_token)
    if (held := cache.get(access_token)) is not None:
        return held
    generation = cache.generation
    me = await call(request, GetMeV1(), access_token=access_token)
    cache.keep(access_token, me, generation)
    return me


async def call_json(request: Request, message: RpcRequest, *, access_token: str | None = None) -> bytes:
    """The reply's JSON bytes as the service wrote them, for a route that passes them on unchanged."""
    headers = {"X-Request-Id": request.state.request_id}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    return await client_of(request).call_json(message, headers=headers)

