"""The gateway's only way to the services: RPC over NATS, with the caller's token, request id and trace."""
from __future__ import annotations

from typing import Any

from fastapi import Request

from contracts.base import RpcRequest
from servicekit.rpc import RpcClient


def client_of(request: Request) -> RpcClient:
    return request.app.state.rpc


async def call(request: Request, message: RpcRequest, *, access_token: str | None = None,
               timeout_s: float | None = None) -> Any:
    """``timeout_s``: longer than the bus's default for the few RPCs that do much in one call (a bulk decision)."""
    headers = {"X-Request-Id": request.state.request_id}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    return await client_of(request).call(message, headers=headers, timeout_s=timeout_s)


async def call_json(request: Request, message: RpcRequest, *, access_token: str | None = None) -> bytes:
    """The reply's JSON bytes as the service wrote them, for a route that passes them on unchanged."""
    headers = {"X-Request-Id": request.state.request_id}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    return await client_of(request).call_json(message, headers=headers)

