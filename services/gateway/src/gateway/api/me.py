from __future__ import annotations

from fastapi import APIRouter, Request, Response

from contracts.identity import GetJwksV1, GetMeV1, MeReply
from gateway.auth.session import access_token_for
from gateway.bus import call

router = APIRouter(tags=["compte"])


@router.get("/api/v1/me", response_model=MeReply)
async def me(request: Request, response: Response) -> MeReply:
    """The account behind the bearer token or the session cookie."""
    return await call(request, GetMeV1(), access_token=await access_token_for(request, response))


@router.get("/.well-known/jwks.json", include_in_schema=False)
async def jwks(request: Request) -> dict:
    return {"keys": (await call(request, GetJwksV1())).keys}
